// Package load is the load run of neurocards (`make load`): the built binary runs as a separate
// process, exactly as an operator runs it, against the testkit fakes in this process, both in
// their lean mode so they are not what is measured. N sellers each order a video, and KIE's
// tasks take minutes, so all N wait on KIE at once. The run measures the bot from outside: its
// resident set with all N waiting and its peak, how long after a SIGKILL and a restart every
// task is read again, how many videos were delivered and how long sellers waited from Generate
// to the video; then it stops the bot and runs `neurocards check` on the data.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"neurocards/testkit"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
	"neurocards/testkit/torture"
)

// Options shape a run. Zero values take the defaults.
type Options struct {
	Binary  string // the built neurocards; required
	Sellers int    // sellers, each ordering one video; default 2000
	// Rate is how many sellers write /start per second; 0: all at once.
	Rate float64
	// JobMin and JobMax bound how long KIE takes over a task, drawn evenly; default 90 s–2 min.
	// They must outlast the ramp, the settling and the restart, or a task ends before all N wait.
	JobMin, JobMax time.Duration
	// Settle is how long the run waits with all N waiting before it reads the resident set;
	// default 10 s.
	Settle time.Duration
	// Env is added to the bot's environment after the run's own, so it may override it.
	Env     []string
	Timeout time.Duration // the whole run; default JobMax + 15 min
	WorkDir string        // data directory, logs and profiles; default a new temporary directory
	Out     io.Writer     // progress lines; default none
	Targets Targets
}

// Targets are the limits a run is judged by; a zero field is not judged.
type Targets struct {
	RSS    int64         // bytes, with all N waiting
	Peak   int64         // bytes, the highest of every process
	Reread time.Duration // from the restart until every running task was read again
}

func (o *Options) defaults() {
	if o.Sellers <= 0 {
		o.Sellers = 2000
	}
	if o.JobMin <= 0 {
		o.JobMin = 90 * time.Second
	}
	if o.JobMax < o.JobMin {
		o.JobMax = max(o.JobMin, 2*time.Minute)
	}
	if o.Settle <= 0 {
		o.Settle = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = o.JobMax + 15*time.Minute
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// run is the state of one load run.
type run struct {
	opt     Options
	tg      *tgfake.Server
	kie     *kiefake.Server
	bot     *torture.Process
	crowd   *crowd
	mem     *watch
	dataDir string
	admin   string
	secrets testkit.Secrets
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.opt.Out, "load: "+format+"\n", args...)
}

// Run plays a whole load run and returns what it measured. An error means the run itself could
// not be carried out; what the bot fell short of is in Result.Problems.
func Run(ctx context.Context, opt Options) (*Result, error) {
	opt.defaults()
	if opt.Binary == "" {
		return nil, errors.New("load: Options.Binary is required")
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	work := opt.WorkDir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "neurocards-load-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	r := &run{opt: opt, dataDir: filepath.Join(work, "data")}
	if _, err := os.Stat(r.dataDir); err == nil {
		// Its jobs would name tasks the fresh fake KIE never heard of.
		return nil, fmt.Errorf("load: %s holds an earlier run's data: give an empty -work-dir", r.dataDir)
	}
	r.secrets = testkit.Secrets{BotToken: "4242:" + torture.Secret() + torture.Secret(), KIEKey: "kie-" + torture.Secret(), AdminToken: torture.Secret()}
	r.tg = tgfake.New(r.secrets.BotToken)
	defer r.tg.Close()
	r.tg.Lean()
	r.kie = kiefake.New(r.secrets.KIEKey)
	defer r.kie.Close()
	r.kie.Lean()
	// The fake calls the script from each createTask's own goroutine: draw from the shared source.
	r.kie.Script(func(int, string, map[string]any) kiefake.Script {
		length := opt.JobMin
		if opt.JobMax > opt.JobMin {
			length += time.Duration(mrand.Int64N(int64(opt.JobMax - opt.JobMin)))
		}
		return kiefake.Script{Forever: true, EndAfter: length}
	})
	var err error
	if r.admin, err = torture.FreePort(); err != nil {
		return nil, err
	}
	r.bot = torture.NewProcess(opt.Binary, append(r.env(), opt.Env...), filepath.Join(work, "bot.log"))
	r.crowd = newCrowd(r.tg, opt.Sellers)
	r.mem = &watch{pid: r.bot.PID}

	res := &Result{Sellers: opt.Sellers, JobMin: opt.JobMin, JobMax: opt.JobMax, Targets: opt.Targets,
		WorkDir: work, Logs: filepath.Join(work, "bot.log"), DataDir: r.dataDir}
	r.logf("%d sellers, KIE tasks of %v–%v; data %s, bot logs %s", opt.Sellers, opt.JobMin, opt.JobMax, r.dataDir, res.Logs)
	if err := r.bot.Start(); err != nil {
		return nil, err
	}
	defer r.bot.Kill()
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() { defer close(watched); r.mem.run(stopWatch, 100*time.Millisecond) }()
	defer func() { close(stopWatch); <-watched }()

	if err := r.play(ctx, res); err != nil {
		res.RunError = err.Error()
	}
	// The check runs even when the run ran out of time.
	final, cancelFinal := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancelFinal()
	r.finish(final, res)
	return res, nil
}

// play is the run's measured part: the ramp to all N waiting, the resident set then, the kill
// and the restart, and the wait for every video.
func (r *run) play(ctx context.Context, res *Result) error {
	began := time.Now()
	go r.startSellers(ctx)
	if err := r.allWaiting(ctx, res); err != nil {
		return err
	}
	res.Ramp = time.Since(began)
	r.logf("all %d waiting on KIE %.1fs after the first /start; settling for %v", r.opt.Sellers, res.Ramp.Seconds(), r.opt.Settle)
	if err := pause(ctx, r.opt.Settle); err != nil {
		return err
	}
	res.RSSWaiting, _ = r.mem.sample()
	res.Goroutines, _ = r.goroutines(ctx)
	res.HeapProfile = r.saveProfile(ctx, "heap?gc=1", filepath.Join(res.WorkDir, "heap-waiting.pb.gz"))
	r.logf("RSS %s with all waiting, %d goroutines; SIGKILL and restart", mb(res.RSSWaiting), res.Goroutines)

	_, res.PeakRamp = r.mem.sample()
	r.bot.Kill()
	restarted := time.Now()
	if err := r.bot.Start(); err != nil {
		return err
	}
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		res.RestartProfile = r.profileRestart(ctx, filepath.Join(res.WorkDir, "cpu-restart.pb.gz"))
	}()
	if err := r.reread(ctx, res, restarted); err != nil {
		return err
	}
	<-profiled
	_, res.PeakRestart = r.mem.sample()
	r.logf("every running task read again %.2fs after the restart; waiting for the videos", res.Reread.Seconds())
	return r.allFinished(ctx, res)
}

// startSellers has every seller write /start, at opt.Rate per second or all at once.
func (r *run) startSellers(ctx context.Context) {
	var every time.Duration
	if r.opt.Rate > 0 {
		every = time.Duration(float64(time.Second) / r.opt.Rate)
	}
	next := time.Now()
	for i := range r.opt.Sellers {
		if every > 0 {
			next = next.Add(every)
			if err := pause(ctx, time.Until(next)); err != nil {
				return
			}
		}
		r.crowd.start(i)
	}
}

// allWaiting waits until every seller has confirmed and every task has been read at least once,
// none ended yet: all N jobs wait on KIE.
func (r *run) allWaiting(ctx context.Context, res *Result) error {
	n := r.opt.Sellers
	return r.until(ctx, 200*time.Millisecond, func() (bool, error) {
		c := r.kie.Census(time.Time{})
		if c.Ended > 0 {
			return false, fmt.Errorf("a KIE task ended before all %d jobs were waiting (%d of %d created): make the jobs longer (-job-min)", n, c.Created, n)
		}
		if t, _ := r.crowd.tally(); t.failed > 0 {
			return false, fmt.Errorf("%d sellers were told their job failed before all were waiting", t.failed)
		}
		return c.Created >= n && c.Polled >= n, nil
	}, func() string {
		c := r.kie.Census(time.Time{})
		t, _ := r.crowd.tally()
		return fmt.Sprintf("%d of %d confirmed, %d tasks created, %d read", t.confirmed, n, c.Created, c.Polled)
	})
}

// reread waits until every running task has been read since the restart, and notes the most
// goroutines the restarted bot ran meanwhile.
func (r *run) reread(ctx context.Context, res *Result, restarted time.Time) error {
	stop := make(chan struct{})
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := r.goroutines(ctx); err == nil {
				res.RestartGoroutines = max(res.RestartGoroutines, n)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	defer func() { close(stop); <-counted }()
	return r.until(ctx, 10*time.Millisecond, func() (bool, error) {
		c := r.kie.Census(restarted)
		if c.Running() > 0 && c.ReadSince >= c.Running() {
			res.Reread = time.Since(restarted)
			res.RereadTasks = c.Running()
			return true, nil
		}
		if !r.bot.Running() {
			return false, fmt.Errorf("the bot exited after the restart: %v", r.bot.Err())
		}
		return false, nil
	}, func() string {
		c := r.kie.Census(restarted)
		return fmt.Sprintf("%d of %d running tasks read since the restart", c.ReadSince, c.Running())
	})
}

// allFinished waits until every seller has their video or has been told their job failed.
func (r *run) allFinished(ctx context.Context, res *Result) error {
	for {
		t, changed := r.crowd.tally()
		if t.finished() >= r.opt.Sellers {
			return nil
		}
		if !r.bot.Running() {
			return fmt.Errorf("the bot exited: %v", r.bot.Err())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d sellers have their video when the run ran out of time", t.delivered, r.opt.Sellers)
		case <-changed:
		case <-time.After(time.Second):
		}
	}
}

// until checks done every tick until it says so or fails, printing progress every few seconds.
func (r *run) until(ctx context.Context, tick time.Duration, done func() (bool, error), progress func() string) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	said := time.Now()
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		if time.Since(said) > 5*time.Second {
			rss, _ := r.mem.sample()
			r.logf("%s; RSS %s", progress(), mb(rss))
			said = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s when the run ran out of time", progress())
		case <-t.C:
		}
	}
}

// finish stops the bot, reads its peak, checks the data and collects what the sellers saw.
func (r *run) finish(ctx context.Context, res *Result) {
	r.mem.sample()
	res.Peak = r.mem.highest()
	if r.bot.Running() {
		stop, err := r.bot.Term(30 * time.Second)
		res.Stop = stop
		if err != nil {
			res.RunError = strings.TrimSpace(res.RunError + "; final SIGTERM: " + err.Error())
		}
	}
	t, _ := r.crowd.tally()
	res.Confirmed, res.Delivered = t.confirmed, t.delivered
	res.Waits = percentiles(r.crowd.waits())
	res.Failures = r.crowd.failures()
	res.Stuck = r.crowd.stuck(5)
	c := r.kie.Census(time.Time{})
	res.Tasks = c.Created
	res.Sends = r.tg.CountCalls("", 0)

	check := exec.CommandContext(ctx, r.opt.Binary, "check", "--data-dir", r.dataDir)
	check.Env = []string{}
	out, err := check.CombinedOutput()
	res.CheckOutput, res.CheckExit = string(out), torture.ExitCode(err)
	if logs, err := os.ReadFile(res.Logs); err == nil {
		res.Leaks = r.secrets.Leaks(string(logs))
		res.DataRaces = torture.DataRaces(logs)
	}
}

// env is the bot's configuration: Telegram's and KIE's spacing off, so what is measured is the
// bot's own cost; everything else at its defaults, as an operator runs it.
func (r *run) env() []string {
	return []string{
		"NEUROCARDS_TELEGRAM_TOKEN=" + r.secrets.BotToken,
		"NEUROCARDS_TELEGRAM_API_URL=" + r.tg.URL(),
		"NEUROCARDS_KIE_API_KEY=" + r.secrets.KIEKey,
		"NEUROCARDS_KIE_API_URL=" + r.kie.APIURL(),
		"NEUROCARDS_KIE_UPLOAD_URL=" + r.kie.UploadURL(),
		"NEUROCARDS_DATA_DIR=" + r.dataDir,
		"NEUROCARDS_ADMIN_ADDR=" + r.admin,
		"NEUROCARDS_ADMIN_TOKEN=" + r.secrets.AdminToken,
		"NEUROCARDS_START_CREDITS=100",
		"NEUROCARDS_LOG_LEVEL=info",
		"NEUROCARDS_TELEGRAM_POLL_TIMEOUT=2s",
		"NEUROCARDS_KIE_CREATE_PER_10S=1000000",
		"NEUROCARDS_TELEGRAM_PER_SECOND=1000000",
		"NEUROCARDS_TELEGRAM_PER_CHAT=1ms",
	}
}

// goroutines asks the bot how many goroutines it runs.
func (r *run) goroutines(ctx context.Context) (int, error) {
	body, err := r.adminGet(ctx, "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(body), "\n")
	return strconv.Atoi(strings.TrimPrefix(line, "goroutine profile: total "))
}

// profileRestart saves a CPU profile of the restarted bot's first seconds, taken as soon as its
// admin server answers, and returns its path ("" if there is none).
func (r *run) profileRestart(ctx context.Context, path string) string {
	for {
		if _, err := r.goroutines(ctx); err == nil {
			break
		}
		if err := pause(ctx, 10*time.Millisecond); err != nil || !r.bot.Running() {
			return ""
		}
	}
	return r.saveProfile(ctx, "profile?seconds=6", path)
}

// saveProfile writes one of the bot's runtime profiles to path, and returns path ("" if it failed).
func (r *run) saveProfile(ctx context.Context, name, path string) string {
	body, err := r.adminGet(ctx, "/debug/pprof/"+name)
	if err != nil {
		r.logf("no %s profile: %v", name, err)
		return ""
	}
	if err := os.WriteFile(path, body, 0o600); err != nil {
		r.logf("no %s profile: %v", name, err)
		return ""
	}
	return path
}

func (r *run) adminGet(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.admin+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.secrets.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("admin %s: HTTP %d", path, resp.StatusCode)
	}
	return body, err
}

// pause waits d, or until ctx ends: the run's measurement windows, not a wait for an event.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
