package torture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"neurocards/admin"
	"neurocards/messages"
	"neurocards/store"
)

// killable are the stages kills are aimed at. A job is also caught in delivered — the job has
// recorded its delivery, its session has not yet captured the credits — but only for a moment,
// so kills are not aimed there; the report counts it all the same.
var killable = []messages.Stage{messages.StageQueued, messages.StageUploading, messages.StageSubmitted,
	messages.StageGenerated, messages.StageDownloaded}

// interrupt kills (and now and then gracefully stops) the bot Kills+Terms times, restarting it on
// the same data each time, and snapshots the data file while the bot is down.
func (r *run) interrupt(ctx context.Context) error {
	total := r.opt.Kills + r.opt.Terms
	graceful := map[int]bool{}
	for i := 1; i <= r.opt.Terms; i++ {
		graceful[i*total/(r.opt.Terms+1)] = true
	}
	hit := map[messages.Stage]int{}
	for n := range total {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		in := interruption{n: n + 1, graceful: graceful[n]}
		if !in.graceful && r.opt.Aim && n%2 == 1 {
			in.aimed = string(r.aim(ctx, hit))
		} else if err := r.upFor(ctx, r.between(r.opt.MinUp, r.opt.MaxUp)); err != nil {
			return err
		}
		if !r.bot.running() {
			r.exits = append(r.exits, fmt.Sprintf("the bot exited on its own before interruption %d: %v (see %s)", in.n, r.bot.err, r.bot.logPath))
		}
		if in.graceful {
			// What the bot had persisted just before: a graceful stop must keep it, task ids above all.
			in.before, _ = r.hotJobs(ctx)
		}
		in.at = time.Now()
		if in.graceful {
			stop, err := r.bot.term(15 * time.Second)
			in.stop = stop
			if err != nil {
				r.exits = append(r.exits, fmt.Sprintf("graceful restart %d: %v", in.n, err))
			}
		} else {
			r.bot.kill()
			// As a supervisor's restart delay (systemd's RestartSec is 100 ms by default): requests
			// the dead process had already written reach the fakes before the next one starts, so a
			// send or a createTask is told apart by which side of the restart it falls.
			if !sleep(ctx, restartDelay) {
				return ctx.Err()
			}
		}
		jobs, err := readJobs(r.dataDir)
		if err != nil {
			return fmt.Errorf("torture: reading the data after interruption %d: %w", in.n, err)
		}
		in.jobs = jobs
		for _, st := range inFlightStages(jobs) {
			hit[st]++
		}
		if err := r.bot.start(); err != nil {
			return err
		}
		in.restarted = time.Now()
		r.interruptions = append(r.interruptions, in)
		r.logf("torture: %s", in.describe())
	}
	return nil
}

// upFor lets the bot run for d. If it exits on its own meanwhile, that is recorded and it is
// started again: a bot that dies by itself is a finding, not the end of the run.
func (r *run) upFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		case <-r.bot.exited:
			r.exits = append(r.exits, fmt.Sprintf("the bot exited on its own: %v (see %s)", r.bot.err, r.bot.logPath))
			r.logf("torture: the bot exited on its own (%v); starting it again", r.bot.err)
			if err := r.bot.start(); err != nil {
				return err
			}
		}
	}
}

// aim waits until a hot backup shows a job in a stage no kill has hit yet (or, once every stage
// has been hit, the least hit one), then returns so the caller kills at once. After a few
// seconds without such a job it gives up and the kill falls wherever it falls.
func (r *run) aim(ctx context.Context, hit map[messages.Stage]int) messages.Stage {
	var want []messages.Stage
	least := -1
	for _, st := range killable {
		switch n := hit[st]; {
		case least < 0 || n < least:
			least, want = n, []messages.Stage{st}
		case n == least:
			want = append(want, st)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if jobs, err := r.hotJobs(ctx); err == nil {
			for _, st := range inFlightStages(jobs) {
				if slices.Contains(want, st) {
					return st
				}
			}
		}
		select {
		case <-ctx.Done():
			return ""
		case <-tick.C:
		}
	}
}

// hotJobs asks the running bot for a hot backup, as `neurocards backup` does, and reads its jobs.
// Every backup that arrives must open and pass bbolt's check; one that does not is a finding.
func (r *run) hotJobs(ctx context.Context) (map[uint64]messages.Job, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.admin+"/backup", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err // the bot is starting or just died
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("backup: %s", resp.Status)
	}
	dir, err := os.MkdirTemp("", "neurocards-hot-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, store.FileName)
	_, _, err = store.WriteBackup(path, func(w io.Writer) (int64, error) {
		n, err := io.Copy(w, resp.Body)
		if err == nil && n != resp.ContentLength {
			err = fmt.Errorf("cut short at %d of %d bytes", n, resp.ContentLength)
		}
		return n, err
	})
	if err != nil {
		if r.bot.running() && ctx.Err() == nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			r.mu.Lock()
			r.backupErrors = append(r.backupErrors, err.Error())
			r.mu.Unlock()
		}
		return nil, err
	}
	if from := resp.Header.Get(admin.DataFileHeader); !strings.HasSuffix(from, store.FileName) {
		return nil, fmt.Errorf("backup: unexpected data file %q", from)
	}
	r.backups.Add(1)
	return readJobs(dir)
}

// readJobs opens a data directory read-only, as `neurocards check` does, and returns every job.
func readJobs(dir string) (map[uint64]messages.Job, error) {
	st, err := store.Open(dir, store.Options{ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	list, err := st.AllJobs()
	if err != nil {
		return nil, err
	}
	jobs := make(map[uint64]messages.Job, len(list))
	for _, j := range list {
		jobs[j.ID] = j
	}
	return jobs, nil
}

// inFlightStages lists the stages that jobs in flight are in, in stage order.
func inFlightStages(jobs map[uint64]messages.Job) []messages.Stage {
	var out []messages.Stage
	for _, st := range append(slices.Clone(killable), messages.StageDelivered) {
		for _, j := range jobs {
			if !j.Terminal() && j.Stage == st {
				out = append(out, st)
				break
			}
		}
	}
	return out
}

func (in interruption) describe() string {
	what := "kill"
	switch {
	case in.graceful:
		what = fmt.Sprintf("SIGTERM (stopped in %.2fs)", in.stop.Seconds())
	case in.burst > 0:
		what = fmt.Sprintf("kill as KIE answered the last createTask of burst %d", in.burst)
	}
	counts := map[messages.Stage]int{}
	done := 0
	for _, j := range in.jobs {
		if j.Terminal() {
			done++
		} else {
			counts[j.Stage]++
		}
	}
	var parts []string
	for _, st := range append(slices.Clone(killable), messages.StageDelivered) {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st, counts[st]))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no job in flight"}
	}
	aimed := ""
	if in.aimed != "" {
		aimed = " (aimed at " + in.aimed + ")"
	}
	return fmt.Sprintf("%2d %s%s: %s; %d jobs ended", in.n, what, aimed, strings.Join(parts, ", "), done)
}
