package torture

import (
	"testing"
	"time"

	"neurocards/messages"
	"neurocards/testkit/kiefake"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func task(id string, job string, createdMs int, state string) kiefake.Task {
	return kiefake.Task{ID: id, State: state, CreatedAt: at(createdMs),
		Input: map[string]any{"image_urls": []any{"http://127.0.0.1:1/uploads/neurocards/" + job + ".jpg"}}}
}

func killed(n, atMs, restartedMs int, graceful bool, jobs ...messages.Job) interruption {
	m := map[uint64]messages.Job{}
	for _, j := range jobs {
		m[j.ID] = j
	}
	return interruption{n: n, at: at(atMs), restarted: at(restartedMs), graceful: graceful, jobs: m}
}

func submitted(id uint64, taskID string) messages.Job {
	return messages.Job{ID: id, Stage: messages.StageSubmitted, TaskID: taskID}
}

func TestCountTasks(t *testing.T) {
	done := func(id uint64, taskID string) messages.Job {
		return messages.Job{ID: id, Stage: messages.StageDelivered, Outcome: messages.OutcomeDone, TaskID: taskID}
	}
	for _, c := range []struct {
		name                                string
		tasks                               []kiefake.Task
		ins                                 []interruption
		final                               map[uint64]messages.Job
		repeated, unsaved, byTerm, unmapped int
	}{
		{name: "resumed and polled the same task",
			tasks: []kiefake.Task{task("a", "job-1", 0, "success")},
			ins:   []interruption{killed(1, 100, 110, false, submitted(1, "a"))},
			final: map[uint64]messages.Job{1: done(1, "a")}},
		{name: "a new task after a kill though the data held one",
			tasks:    []kiefake.Task{task("a", "job-1", 0, "success"), task("b", "job-1", 120, "success")},
			ins:      []interruption{killed(1, 100, 110, false, submitted(1, "a"))},
			final:    map[uint64]messages.Job{1: done(1, "b")},
			repeated: 1},
		{name: "a new task after the saved one failed at KIE is a retry",
			tasks: []kiefake.Task{task("a", "job-1", 0, "fail"), task("b", "job-1", 300, "success")},
			ins:   []interruption{killed(1, 100, 110, false, submitted(1, "a"))},
			final: map[uint64]messages.Job{1: done(1, "b")}},
		{name: "a task whose id a kill cut off, then the one the resume made",
			tasks: []kiefake.Task{task("a", "job-2", 90, "success"), task("b", "job-2", 130, "success")},
			ins:   []interruption{killed(1, 100, 110, false, messages.Job{ID: 2, Stage: messages.StageUploading})},
			final: map[uint64]messages.Job{2: done(2, "b")}, unsaved: 1},
		{name: "cut off by a graceful stop",
			tasks: []kiefake.Task{task("a", "job-2", 90, "success"), task("b", "job-2", 130, "success")},
			ins:   []interruption{killed(1, 100, 110, true, messages.Job{ID: 2, Stage: messages.StageUploading})},
			final: map[uint64]messages.Job{2: done(2, "b")}, unsaved: 1, byTerm: 1},
		{name: "a graceful stop threw the saved task id away, and the restart paid again",
			tasks: []kiefake.Task{task("a", "job-3", 0, "generating"), task("b", "job-3", 130, "success")},
			ins: []interruption{func() interruption {
				in := killed(1, 100, 110, true, messages.Job{ID: 3, Stage: messages.StageQueued})
				in.before = map[uint64]messages.Job{3: submitted(3, "a")}
				return in
			}()},
			final:    map[uint64]messages.Job{3: done(3, "b")},
			repeated: 1},
		{name: "a task that names no job",
			tasks:    []kiefake.Task{{ID: "x", Input: map[string]any{"image_urls": []any{"http://elsewhere/p.jpg"}}, State: "success"}},
			unmapped: 1, unsaved: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var res Result
			countTasks(&res, c.tasks, c.ins, c.final)
			if len(res.RepeatedTasks) != c.repeated || res.UnsavedTasks != c.unsaved || res.UnsavedByTerm != c.byTerm || res.UnmappedTasks != c.unmapped {
				t.Errorf("repeated %v, unsaved %d (by SIGTERM %d), unmapped %d; want %d, %d (%d), %d",
					res.RepeatedTasks, res.UnsavedTasks, res.UnsavedByTerm, res.UnmappedTasks, c.repeated, c.unsaved, c.byTerm, c.unmapped)
			}
		})
	}
}

func TestCountDuplicates(t *testing.T) {
	generated := messages.Job{ID: 5, Stage: messages.StageDownloaded}
	ended := messages.Job{ID: 5, Stage: messages.StageDelivered, Outcome: messages.OutcomeDone}
	for _, c := range []struct {
		name                 string
		sends                []int
		ins                  []interruption
		explained, unexplain int
	}{
		{name: "one send", sends: []int{50}},
		{name: "sent, killed before the record, sent again",
			sends: []int{50, 200}, ins: []interruption{killed(1, 100, 110, false, generated)}, explained: 1},
		{name: "the killed process's request reached Telegram just after the kill",
			sends: []int{103, 200}, ins: []interruption{killed(1, 100, 110, false, generated)}, explained: 1},
		{name: "sent twice with no kill in between",
			sends: []int{50, 80}, ins: []interruption{killed(1, 100, 110, false, generated)}, unexplain: 1},
		{name: "the kill came after the record",
			sends: []int{50, 200}, ins: []interruption{killed(1, 100, 110, false, ended)}, unexplain: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var res Result
			var s []send
			for _, ms := range c.sends {
				s = append(s, send{chat: 1, at: at(ms)})
			}
			countDuplicates(&res, map[uint64][]send{5: s}, c.ins)
			if res.DupsExplained != c.explained || len(res.DupsUnexplained) != c.unexplain || res.Duplicates != len(c.sends)-1 {
				t.Errorf("duplicates %d: explained %d, unexplained %v; want %d, %d", res.Duplicates, res.DupsExplained, res.DupsUnexplained, c.explained, c.unexplain)
			}
		})
	}
}

func TestRecognisesResultsAndFailures(t *testing.T) {
	if id, ok := jobOfFile("42.mp4"); !ok || id != 42 {
		t.Errorf("42.mp4: %d %v", id, ok)
	}
	for _, name := range []string{"job-42.jpg", "42", "a42.png", ""} {
		if _, ok := jobOfFile(name); ok {
			t.Errorf("%q taken for a result", name)
		}
	}
	if id, ok := jobOfTask(map[string]any{"image_url": "http://h/uploads/neurocards/job-7.png"}); !ok || id != 7 {
		t.Errorf("image_url: %d %v", id, ok)
	}
}

// TestKillsThatHitNoJobFailTheRun: a run whose kills all landed while no job was in flight
// proved nothing about recovery, and says so; one kill in a stage is enough.
func TestKillsThatHitNoJobFailTheRun(t *testing.T) {
	res := Result{Jobs: 8, Kills: 5, StagesHit: map[messages.Stage]int{}}
	if p := res.Problems(); len(p) != 1 || p[0] != "none of the 5 kills found a job in flight: the run proved nothing about recovery" {
		t.Errorf("problems %q", p)
	}
	res.StagesHit[messages.StageSubmitted] = 1
	if p := res.Problems(); len(p) != 0 {
		t.Errorf("problems %q", p)
	}
}

// TestCountBursts: a burst job whose id was not on disk at the kill and got a second task after
// the restart was paid twice; one delivered from its first task was resumed; too many of the
// first kind fail the run.
func TestCountBursts(t *testing.T) {
	done := func(id uint64, taskID string) messages.Job {
		return messages.Job{ID: id, Stage: messages.StageDelivered, Outcome: messages.OutcomeDone, TaskID: taskID}
	}
	b := burst{n: 1, size: 4, killed: 2 * time.Millisecond,
		tasks: map[string]time.Time{"a": at(10), "b": at(60), "c": at(95), "d": at(100)},
		kill: killed(1, 100, 110, false, submitted(1, "a"), submitted(2, "b"),
			messages.Job{ID: 3, Stage: messages.StageUploading}, messages.Job{ID: 4, Stage: messages.StageUploading})}
	tasks := []kiefake.Task{
		task("a", "job-1", 10, "success"), task("b", "job-2", 60, "success"),
		task("c", "job-3", 95, "success"), task("d", "job-4", 100, "success"),
		task("c2", "job-3", 130, "success"), task("d2", "job-4", 140, "success"),
	}
	final := map[uint64]messages.Job{1: done(1, "a"), 2: done(2, "b"), 3: done(3, "c2"), 4: done(4, "d2")}
	res := Result{Jobs: 4, MaxRecreated: 2}
	countBursts(&res, []burst{b}, tasks, final)
	got := res.Bursts[0]
	if got.Jobs != 4 || got.Saved != 2 || got.Recreated != 2 || got.Resumed != 2 || got.Spread != 90*time.Millisecond {
		t.Fatalf("burst: %+v", got)
	}
	if len(got.Unsaved) != 2 || got.Unsaved[0] != 0 || got.Unsaved[1] != 5*time.Millisecond {
		t.Errorf("unsaved answered before the last: %v, want [0s 5ms]", got.Unsaved)
	}
	if p := res.Problems(); len(p) != 0 {
		t.Errorf("two tasks created again are allowed: %q", p)
	}
	res.Bursts[0].Recreated, res.Bursts[0].Resumed = 3, 1
	if p := res.Problems(); len(p) != 1 || p[0] != "burst 1: the restarted bot created 3 of 4 tasks again (at most 2 may be)" {
		t.Errorf("problems %q", p)
	}
	res.MaxRecreated = -1
	if p := res.Problems(); len(p) != 0 {
		t.Errorf("with no bound, the count is only reported: %q", p)
	}
	res.Bursts[0].Recreated, res.Bursts[0].Resumed = 2, 1
	if p := res.Problems(); len(p) != 1 || p[0] != "burst 1: 1 jobs neither resumed their task nor created another" {
		t.Errorf("problems %q", p)
	}
}
