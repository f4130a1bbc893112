package torture

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"neurocards/messages"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// burst is one burst of the crash test and the kill that ended it: its sellers confirmed at once,
// and the bot was killed the moment KIE answered the burst's last createTask, when the most task
// ids are on their way to the disk at once.
type burst struct {
	n      int
	size   int
	tasks  map[string]time.Time // the burst's task ids, as KIE answered them
	killed time.Duration        // from the last answer to the bot being gone
	kill   interruption
}

// BurstResult is what one burst cost.
type BurstResult struct {
	N    int
	Jobs int // jobs whose createTask KIE answered before the kill (the burst's size)
	// Saved counts the task ids the data held right after the kill.
	Saved int
	// Recreated counts the jobs for which the restarted bot created another task: KIE paid twice.
	Recreated int
	// Resumed counts the jobs delivered from the task created before the kill: polled again.
	Resumed int
	Killed  time.Duration // from KIE's last answer to the bot being gone
	// Spread is the time from the burst's first createTask answer to its last; Unsaved lists,
	// for every task id not on disk at the kill, how long before the last answer it was answered.
	Spread  time.Duration
	Unsaved []time.Duration
}

// playBursts plays Options.Bursts bursts once the random phase is over, with the chaos stopped
// and KIE failing nothing, so a task created twice is the kill's doing and nothing else's.
func (r *run) playBursts(ctx context.Context) error {
	if r.opt.Bursts <= 0 {
		return nil
	}
	r.kie.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Waiting: 1 + r.intn(3), Generating: 2 + r.intn(6)}
	})
	sellers := make([]*seller, r.opt.BurstSize)
	after := make([]int, len(sellers))
	err := each(sellers, func(i int, _ *seller) error {
		sl := newSeller(r, int64(9001+i), i)
		sellers[i] = sl
		greeting, err := sl.step(ctx, "the greeting", 0, hasPrefix("k:"), func() error { sl.sent(sl.s.Send("/start")); return nil })
		after[i] = greeting.ID
		return err
	})
	if err != nil {
		return fmt.Errorf("torture: burst sellers: %w", err)
	}
	r.sellers = append(r.sellers, sellers...)
	for n := 1; n <= r.opt.Bursts; n++ {
		if err := r.awaitQuiet(ctx); err != nil {
			return err
		}
		if err := r.burst(ctx, n, sellers, after); err != nil {
			return err
		}
	}
	return nil
}

// burst brings every seller to the confirmation, has them all tap Generate at once, kills the
// bot as KIE answers the burst's last createTask, restarts it and waits until every seller has
// heard how their job ended.
func (r *run) burst(ctx context.Context, n int, sellers []*seller, after []int) error {
	confirms := make([]tgfake.Message, len(sellers))
	err := each(sellers, func(i int, sl *seller) error {
		var err error
		confirms[i], err = sl.prepare(ctx, "card", after[i])
		return err
	})
	if err != nil {
		return fmt.Errorf("torture: burst %d: %w", n, err)
	}
	b := burst{n: n, size: len(sellers), tasks: map[string]time.Time{}}
	base := r.kie.CreateAnswers()
	killed := make(chan struct{})
	r.kie.OnCreateAnswered(func(a kiefake.Answered) {
		if a.N <= base || a.N > base+b.size {
			return
		}
		b.tasks[a.TaskID] = a.At
		if a.N == base+b.size {
			r.bot.kill()
			b.killed = time.Since(a.At)
			close(killed)
		}
	})
	defer r.kie.OnCreateAnswered(nil)
	outcomes := make(chan error, len(sellers))
	for i, sl := range sellers {
		go func() {
			out, err := sl.generate(ctx, "card", confirms[i], false)
			after[i] = out.msgID
			outcomes <- err
		}()
	}
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	select {
	case <-killed:
	case <-wait.Done():
		return fmt.Errorf("torture: burst %d: KIE answered %d of %d createTasks: %w", n, r.kie.CreateAnswers()-base, b.size, wait.Err())
	}
	b.kill = interruption{n: len(r.interruptions) + 1, at: time.Now(), burst: n}
	if !sleep(ctx, restartDelay) {
		return ctx.Err()
	}
	jobs, err := readJobs(r.dataDir)
	if err != nil {
		return fmt.Errorf("torture: reading the data after burst %d: %w", n, err)
	}
	b.kill.jobs = jobs
	if err := r.bot.start(); err != nil {
		return err
	}
	b.kill.restarted = time.Now()
	r.interruptions = append(r.interruptions, b.kill)
	r.bursts = append(r.bursts, b)
	var errs []error
	for range sellers {
		errs = append(errs, <-outcomes)
	}
	r.logf("torture: %s", b.kill.describe())
	return errors.Join(errs...)
}

// each runs fn for every seller at once and returns their errors.
func each(sellers []*seller, fn func(i int, sl *seller) error) error {
	errs := make([]error, len(sellers))
	var wg sync.WaitGroup
	for i, sl := range sellers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i, sl)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// countBursts judges every burst against the tasks KIE created and the final data: a job of the
// burst with a task created after the restart was paid for twice; one delivered from the task
// created before the kill was resumed.
func countBursts(res *Result, bursts []burst, all []kiefake.Task, final map[uint64]messages.Job) {
	jobOf := map[string]uint64{}
	byJob := map[uint64][]kiefake.Task{}
	for _, t := range all {
		if id, ok := jobOfTask(t.Input); ok {
			jobOf[t.ID] = id
			byJob[id] = append(byJob[id], t)
		}
	}
	for _, b := range bursts {
		br := BurstResult{N: b.n, Jobs: len(b.tasks), Killed: b.killed}
		var first, last time.Time
		for _, at := range b.tasks {
			if first.IsZero() || at.Before(first) {
				first = at
			}
			last = maxTime(last, at)
		}
		br.Spread = last.Sub(first)
		for task, at := range b.tasks {
			id, ok := jobOf[task]
			if !ok {
				continue
			}
			if b.kill.jobs[id].TaskID == task {
				br.Saved++
			} else {
				br.Unsaved = append(br.Unsaved, last.Sub(at))
			}
			again := false
			for _, t := range byJob[id] {
				if t.ID != task && t.CreatedAt.After(b.kill.restarted) {
					again = true
				}
			}
			switch j := final[id]; {
			case again:
				br.Recreated++
			case j.Outcome == messages.OutcomeDone && j.TaskID == task:
				br.Resumed++
			}
		}
		slices.Sort(br.Unsaved)
		res.Bursts = append(res.Bursts, br)
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
