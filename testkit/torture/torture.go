// Package torture is the crash test of neurocards. The built binary runs as a separate process,
// exactly as an operator runs it, against the testkit fakes in this process. Many sellers order
// jobs, KIE fails a share of calls, and the bot is killed with SIGKILL at random moments and
// restarted on the same data directory with the same environment. After every kill, while the bot
// is dead, the data file is read to see which stages the kill hit. When every job has ended the
// bot is stopped with SIGTERM, `neurocards check` runs on the data, and the run counts what a
// crash may never cost: lost jobs, money moved twice, KIE paid twice for a task it already had,
// results delivered twice without a kill to explain it.
package torture

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"neurocards/messages"
	"neurocards/testkit"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// Options shape a run. Zero values take the defaults of the full run.
type Options struct {
	Binary  string // the built neurocards; required
	Sellers int    // sellers ordering jobs at the same time; default 30
	Kills   int    // SIGKILLs; default 24
	// Terms is how many graceful restarts (SIGTERM, then start again) are mixed in among the
	// kills; default 2. Each must stop within 10 s.
	Terms int
	// MinUp and MaxUp bound how long the bot runs before a random interruption; default 0.5–3 s.
	MinUp, MaxUp time.Duration
	// Aim makes every other kill wait until a hot backup shows a job in a stage no kill has hit
	// yet, so a run covers every stage, not only the long ones.
	Aim bool
	// Bursts is how many times, after the random kills, BurstSize sellers confirm at once and
	// the bot is killed the moment KIE answers the burst's last createTask; default 5, negative
	// for none.
	Bursts, BurstSize int
	// MaxRecreated is how many of a burst's tasks the restarted bot may create again before the
	// run fails: the last answer's id cannot reach the disk before a kill at that very moment,
	// and one more may be on its way; default 2. How many ids are on their way depends on the
	// machine's speed, so a negative value only reports the count (the short run in `make test`).
	MaxRecreated int
	JobTimeout   time.Duration // NEUROCARDS_JOB_TIMEOUT; default 3 min
	Timeout      time.Duration // the whole run; default 10 min
	Seed         uint64        // 0: from the clock
	WorkDir      string        // data directory and bot logs; default a new temporary directory
	Out          io.Writer     // progress lines; default none
}

func (o *Options) defaults() {
	if o.Sellers <= 0 {
		o.Sellers = 30
	}
	if o.Kills <= 0 {
		o.Kills = 24
	}
	if o.Terms < 0 {
		o.Terms = 0
	}
	if o.MinUp <= 0 {
		o.MinUp = 500 * time.Millisecond
	}
	if o.MaxUp < o.MinUp {
		o.MaxUp = max(o.MinUp, 3*time.Second)
	}
	if o.Bursts == 0 {
		o.Bursts = 5
	}
	if o.BurstSize <= 0 {
		o.BurstSize = 50
	}
	if o.MaxRecreated == 0 {
		o.MaxRecreated = 2
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 3 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// startCredits is what every seller gets: enough for every round a run can play.
const startCredits = 100000

// interruption is one kill or graceful restart, and what the data file said right after it.
type interruption struct {
	n         int
	graceful  bool
	at        time.Time // the signal was sent
	restarted time.Time // the next process was started
	stop      time.Duration
	jobs      map[uint64]messages.Job
	before    map[uint64]messages.Job // a graceful stop's: a hot backup just before SIGTERM
	aimed     string                  // the stage the kill waited for, if it was aimed
	burst     int                     // the burst whose last createTask answer the kill followed
}

// restartDelay is how long the bot stays dead after a kill.
const restartDelay = 100 * time.Millisecond

// run is the state of one torture run.
type run struct {
	opt     Options
	rng     *mrand.Rand
	rngMu   sync.Mutex
	tg      *tgfake.Server
	kie     *kiefake.Server
	bot     *botProcess
	dataDir string
	secrets testkit.Secrets
	admin   string
	token   string

	interruptions []interruption
	bursts        []burst
	backups       atomic.Int64
	resent        atomic.Int64
	backupErrors  []string
	exits         []string
	mu            sync.Mutex
	sellers       []*seller
}

// intn draws from the run's random source, which every goroutine shares.
func (r *run) intn(n int) int {
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return r.rng.IntN(n)
}

func (r *run) chance(p float64) bool {
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return r.rng.Float64() < p
}

func (r *run) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)))
}

func (r *run) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opt.Out, format+"\n", args...)
}

// Run plays a whole torture run and returns what it measured. An error means the run itself
// could not be carried out (no binary, no bot start); what the bot got wrong is in the Result.
func Run(ctx context.Context, opt Options) (*Result, error) {
	opt.defaults()
	if opt.Binary == "" {
		return nil, errors.New("torture: Options.Binary is required")
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	started := time.Now()

	work := opt.WorkDir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "neurocards-torture-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	r := &run{
		opt:     opt,
		rng:     mrand.New(mrand.NewPCG(opt.Seed, opt.Seed>>1|1)),
		dataDir: filepath.Join(work, "data"),
		token:   Secret(),
	}
	botToken := "4242:" + Secret() + Secret() // Telegram's shape: 30 or more characters after the colon
	kieKey := "kie-" + Secret()
	r.secrets = testkit.Secrets{BotToken: botToken, KIEKey: kieKey, AdminToken: r.token}
	r.tg = tgfake.New(botToken)
	defer r.tg.Close()
	r.kie = kiefake.New(kieKey)
	defer r.kie.Close()
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	r.admin = port

	env := []string{
		"NEUROCARDS_TELEGRAM_TOKEN=" + botToken,
		"NEUROCARDS_TELEGRAM_API_URL=" + r.tg.URL(),
		"NEUROCARDS_KIE_API_KEY=" + kieKey,
		"NEUROCARDS_KIE_API_URL=" + r.kie.APIURL(),
		"NEUROCARDS_KIE_UPLOAD_URL=" + r.kie.UploadURL(),
		"NEUROCARDS_DATA_DIR=" + r.dataDir,
		"NEUROCARDS_ADMIN_ADDR=" + r.admin,
		"NEUROCARDS_ADMIN_TOKEN=" + r.token,
		fmt.Sprintf("NEUROCARDS_START_CREDITS=%d", startCredits),
		"NEUROCARDS_LOG_LEVEL=info",
		"NEUROCARDS_JOB_TIMEOUT=" + opt.JobTimeout.String(),
		"NEUROCARDS_KIE_ATTEMPT_TIMEOUT=" + min(time.Minute, opt.JobTimeout).String(),
		"NEUROCARDS_UPLOAD_TIMEOUT=20s",
		"NEUROCARDS_KIE_POLL_MIN=50ms",
		"NEUROCARDS_KIE_POLL_MAX=250ms",
		"NEUROCARDS_RETRY_BASE=250ms",
		"NEUROCARDS_RETRY_MAX=1s",
		"NEUROCARDS_STATUS_INTERVAL=250ms",
		"NEUROCARDS_STATUS_TICK=1s",
		"NEUROCARDS_BREAKER_COOLDOWN=1s",
		"NEUROCARDS_DELAYED_RECHECK=500ms",
		"NEUROCARDS_TELEGRAM_POLL_TIMEOUT=2s",
		"NEUROCARDS_TELEGRAM_CALL_TIMEOUT=5s",
		"NEUROCARDS_SHUTDOWN_GRACE=5s",
		"NEUROCARDS_KIE_CREATE_PER_10S=1000",
		"NEUROCARDS_TELEGRAM_PER_SECOND=1000",
		"NEUROCARDS_TELEGRAM_PER_CHAT=20ms",
		"NEUROCARDS_UPDATES_PER_MINUTE=600",
		"GORACE=atexit_sleep_ms=0", // a bot built with -race: no pause at exit, so stop times are the bot's own
	}
	r.bot = &botProcess{bin: opt.Binary, env: env, logPath: filepath.Join(work, "bot.log")}
	res := &Result{Seed: opt.Seed, Sellers: opt.Sellers, WorkDir: work, Logs: r.bot.logPath, DataDir: r.dataDir, MaxRecreated: opt.MaxRecreated}

	r.logf("torture: seed %d, %d sellers, %d kills, %d graceful restarts, %d bursts of %d; data %s, bot logs %s",
		opt.Seed, opt.Sellers, opt.Kills, opt.Terms, max(opt.Bursts, 0), opt.BurstSize, r.dataDir, r.bot.logPath)
	r.kie.Script(r.kieScript)
	if err := r.bot.start(); err != nil {
		return nil, err
	}
	defer r.bot.kill()

	for i := range opt.Sellers {
		r.sellers = append(r.sellers, newSeller(r, int64(7001+i), i))
	}
	chaosCtx, stopChaos := context.WithCancel(ctx)
	var chaosDone sync.WaitGroup
	chaosDone.Add(1)
	go func() { defer chaosDone.Done(); r.chaos(chaosCtx) }()

	var keepGoing atomic.Bool
	keepGoing.Store(true)
	sellerCtx, stopSellers := context.WithCancel(ctx)
	defer stopSellers()
	sellersDone := make(chan struct{})
	var sellers sync.WaitGroup
	for _, s := range r.sellers {
		sellers.Add(1)
		go func() { defer sellers.Done(); s.play(sellerCtx, keepGoing.Load) }()
	}
	go func() { sellers.Wait(); close(sellersDone) }()

	runErr := r.interrupt(ctx)
	keepGoing.Store(false)
	r.logf("torture: %d interruptions done; letting every seller hear the end of their last job", len(r.interruptions))
	r.awaitSellers(ctx, sellersDone, stopSellers)
	stopChaos()
	chaosDone.Wait()
	if runErr == nil {
		runErr = r.awaitQuiet(ctx)
	}
	if runErr == nil {
		runErr = r.playBursts(ctx)
	}
	if runErr == nil {
		runErr = r.awaitQuiet(ctx)
	}

	stop, termErr := r.bot.term(15 * time.Second)
	res.FinalStop = stop
	if termErr != nil {
		res.BotExits = append(res.BotExits, "final SIGTERM: "+termErr.Error())
	}
	r.logf("torture: the bot stopped %.2fs after SIGTERM; checking the data", stop.Seconds())
	if err := r.analyse(ctx, res); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(started)
	if runErr != nil {
		res.RunError = runErr.Error()
	}
	return res, nil
}

// awaitQuiet waits, through hot backups, until no job is in flight.
func (r *run) awaitQuiet(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.opt.JobTimeout+30*time.Second)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if !r.bot.running() {
			r.exits = append(r.exits, fmt.Sprintf("the bot exited on its own: %v (see %s)", r.bot.err, r.bot.logPath))
			if err := r.bot.start(); err != nil {
				return err
			}
		}
		jobs, err := r.hotJobs(ctx)
		if err == nil {
			active := 0
			for _, j := range jobs {
				if !j.Terminal() {
					active++
				}
			}
			if active == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("torture: jobs still in flight when the run ran out of time: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// hearingGrace is how long sellers may still wait once no job is in flight: every answer a
// seller can get is on its way by then, so one still waiting will never hear.
const hearingGrace = 15 * time.Second

// awaitSellers waits until every seller has heard the end of their last job, or until no job has
// been in flight for hearingGrace, and then stops the sellers still waiting.
func (r *run) awaitSellers(ctx context.Context, done <-chan struct{}, stop context.CancelFunc) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var quietSince time.Time
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			stop()
			<-done
			return
		case <-tick.C:
		}
		jobs, err := r.hotJobs(ctx)
		switch {
		case err != nil || len(inFlightStages(jobs)) > 0:
			quietSince = time.Time{}
		case quietSince.IsZero():
			quietSince = time.Now()
		case time.Since(quietSince) > hearingGrace:
			r.logf("torture: no job in flight for %v, and some sellers still wait; they will not hear", hearingGrace)
			stop()
			<-done
			return
		}
	}
}
