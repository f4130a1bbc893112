package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"neurocards/messages"
)

// uploading is a job whose generation attempt 1 is under way, as the job actor saved it before
// spawning the generator.
func uploading(t *testing.T, s *Store) messages.Job {
	t.Helper()
	grant(t, s, 1, 100)
	j, err := startJob(t, s, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	j.Stage, j.GenAttempts = messages.StageUploading, 1
	if j, err = s.SaveJob(j); err != nil {
		t.Fatal(err)
	}
	return j
}

func stored(t *testing.T, s *Store, id uint64) messages.Job {
	t.Helper()
	j, ok, err := s.Job(id)
	if err != nil || !ok {
		t.Fatalf("job %d: %v %v", id, ok, err)
	}
	return j
}

func TestRecordTask(t *testing.T) {
	failure := &messages.Failure{Class: messages.Transient, Reason: messages.ReasonTimeout}
	for _, tt := range []struct {
		name    string
		before  func(j *messages.Job) // the job as stored before the generator records
		attempt int
		task    string
		err     error // nil: recorded
	}{
		{name: "the attempt's task", attempt: 1, task: "t1"},
		{name: "a task for an attempt given up on", attempt: 1, task: "t1", err: ErrStaleTask,
			before: func(j *messages.Job) { j.Stage, j.GenAttempts = messages.StageQueued, 2 }},
		{name: "a late task while the next attempt uploads", attempt: 1, task: "t1", err: ErrStaleTask,
			before: func(j *messages.Job) { j.GenAttempts = 2 }},
		{name: "a task after the job's failure was decided", attempt: 1, task: "t1", err: ErrStaleTask,
			before: func(j *messages.Job) { j.Failure = failure }},
		{name: "a second task while the job has one", attempt: 1, task: "t2", err: ErrStaleTask,
			before: func(j *messages.Job) { j.Stage, j.TaskID, j.TasksCreated = messages.StageSubmitted, "t1", 1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			j := uploading(t, s)
			if tt.before != nil {
				tt.before(&j)
				if _, err := s.SaveJob(j); err != nil {
					t.Fatal(err)
				}
			}
			want := stored(t, s, j.ID)
			err := s.RecordTask(j.ID, tt.attempt, "https://kie/upload/job-1.jpg", tt.task)
			got := stored(t, s, j.ID)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("RecordTask: %v, want %v", err, tt.err)
				}
				if !jobsEqual(got, want) {
					t.Fatalf("a refused task changed the job:\n got %+v\nwant %+v", got, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Stage != messages.StageSubmitted || got.TaskID != tt.task || got.TasksCreated != want.TasksCreated+1 || got.UploadURL != "https://kie/upload/job-1.jpg" {
				t.Fatalf("recorded job: stage %s task %q tasks %d upload %q", got.Stage, got.TaskID, got.TasksCreated, got.UploadURL)
			}
			// The generator's record and the job's own save after TaskCreated may both arrive
			// more than once: the task is counted once.
			if err := s.RecordTask(j.ID, tt.attempt, "https://kie/upload/job-1.jpg", tt.task); err != nil {
				t.Fatalf("recording the same task again: %v", err)
			}
			if again := stored(t, s, j.ID); again.TasksCreated != got.TasksCreated {
				t.Fatalf("recording the same task again counted it again: %d", again.TasksCreated)
			}
		})
	}
}

func TestRecordTaskRefusesWhatIsNotThere(t *testing.T) {
	s := open(t)
	if err := s.RecordTask(99, 1, "u", "t1"); !errors.Is(err, ErrNoJob) {
		t.Fatalf("unknown job: %v", err)
	}
	j := uploading(t, s)
	if err := s.RecordTask(j.ID, 1, "u", ""); err == nil {
		t.Fatal("an empty task id was recorded")
	}
	j.Outcome = messages.OutcomeFailed
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordTask(j.ID, 1, "u", "t1"); !errors.Is(err, ErrFinished) {
		t.Fatalf("ended job: %v", err)
	}
	if got := stored(t, s, j.ID); got.TaskID != "" || got.TasksCreated != 0 {
		t.Fatalf("an ended job took a task: %+v", got)
	}
}

// The job actor may save its copy — a status message id, a photo's upload URL, a failure —
// between the generator's RecordTask and the job hearing TaskCreated. Such a save never loses the
// task; a copy that has heard of it, or dropped it after a failed generation, is saved as is.
func TestSaveJobKeepsARecordedTask(t *testing.T) {
	failure := &messages.Failure{Class: messages.Transient, Reason: messages.ReasonTimeout}
	for _, tt := range []struct {
		name string
		copy func(j *messages.Job) // the job actor's copy, from the job as it was before RecordTask
		want func(j *messages.Job) // the record after the save, from the recorded job
	}{
		{name: "the status message id, before TaskCreated",
			copy: func(j *messages.Job) { j.StatusMessageID = 77 },
			want: func(j *messages.Job) { j.StatusMessageID = 77 }},
		{name: "the photo's upload URL, before TaskCreated",
			copy: func(j *messages.Job) { j.UploadURL = "https://kie/upload/job-1.jpg" },
			want: func(j *messages.Job) {}},
		{name: "the deadline's failure, before TaskCreated",
			copy: func(j *messages.Job) { j.Failure = failure },
			want: func(j *messages.Job) { j.Failure = failure }},
		{name: "after TaskCreated: the same values",
			copy: func(j *messages.Job) {
				j.Stage, j.TaskID, j.TasksCreated, j.UploadURL = messages.StageSubmitted, "t1", 1, "https://kie/upload/job-1.jpg"
			},
			want: func(j *messages.Job) {}},
		{name: "a generation that failed and dropped the task",
			copy: func(j *messages.Job) {
				j.Stage, j.TaskID, j.TasksCreated, j.UploadURL, j.GenAttempts = messages.StageQueued, "", 1, "", 2
			},
			want: func(j *messages.Job) {
				j.Stage, j.TaskID, j.UploadURL, j.GenAttempts = messages.StageQueued, "", "", 2
			}},
		{name: "the task's result",
			copy: func(j *messages.Job) {
				j.Stage, j.TaskID, j.TasksCreated, j.ResultURL = messages.StageGenerated, "t1", 1, "https://kie/files/r.png"
				j.UploadURL = "https://kie/upload/job-1.jpg"
			},
			want: func(j *messages.Job) { j.Stage, j.ResultURL = messages.StageGenerated, "https://kie/files/r.png" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			j := uploading(t, s)
			if err := s.RecordTask(j.ID, 1, "https://kie/upload/job-1.jpg", "t1"); err != nil {
				t.Fatal(err)
			}
			want := stored(t, s, j.ID)
			tt.want(&want)
			tt.copy(&j)
			if _, err := s.SaveJob(j); err != nil {
				t.Fatal(err)
			}
			got := stored(t, s, j.ID)
			got.UpdatedAt, want.UpdatedAt = got.CreatedAt, got.CreatedAt
			got.Reached, want.Reached = messages.StageTimes{}, messages.StageTimes{} // stage times have their own tests
			if !jobsEqual(got, want) {
				t.Fatalf("saved:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// A job that ends before it hears of its recorded task ends with the task on its record: KIE
// was paid for it, and `neurocards check` and the crash test count it.
func TestFinishKeepsARecordedTask(t *testing.T) {
	s := open(t)
	j := uploading(t, s)
	if err := s.RecordTask(j.ID, 1, "https://kie/upload/job-1.jpg", "t1"); err != nil {
		t.Fatal(err)
	}
	j.Outcome = messages.OutcomeFailed
	got, err := finish(s, j)
	if err != nil {
		t.Fatal(err)
	}
	if got.TaskID != "t1" || got.TasksCreated != 1 || got.Outcome != messages.OutcomeFailed {
		t.Fatalf("ended job: task %q tasks %d outcome %s", got.TaskID, got.TasksCreated, got.Outcome)
	}
	if rec := stored(t, s, j.ID); rec.TaskID != "t1" || rec.TasksCreated != 1 {
		t.Fatalf("stored: task %q tasks %d", rec.TaskID, rec.TasksCreated)
	}
}

func jobsEqual(a, b messages.Job) bool {
	fa, fb := a.Failure, b.Failure
	a.Failure, b.Failure = nil, nil
	if a != b {
		return false
	}
	return (fa == nil) == (fb == nil) && (fa == nil || *fa == *fb)
}

// No more than Unrecorded tasks are ever on their way to the disk: the next generator waits for
// a place, or gives up when its attempt does.
func TestTaskSlotBoundsTasksOnTheirWay(t *testing.T) {
	s := open(t)
	var done []func()
	for range Unrecorded {
		d, err := s.TaskSlot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, d)
	}
	// An attempt with time left waits, and gives up when its time is over.
	full := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := s.TaskSlot(ctx)
		return err
	}
	if err := full(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a slot beyond %d: %v, want a wait that ends with the attempt", Unrecorded, err)
	}
	got := make(chan error, 1)
	go func() {
		d, err := s.TaskSlot(context.Background())
		if err == nil {
			d()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a slot beyond %d was given while all were taken (%v)", Unrecorded, err)
	case <-time.After(50 * time.Millisecond): // still waiting, as it must
	}
	done[0]()
	done[0]() // giving a place back twice frees it once
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if _, err := s.TaskSlot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := full(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with %d places taken again: %v, want none left", Unrecorded, err)
	}
}
