package actors

import (
	"reflect"
	"testing"
	"time"

	"neurocards/messages"
)

var (
	t0     = time.Date(2026, 11, 28, 14, 3, 0, 0, time.UTC)
	policy = Policy{GenAttempts: 3, SendAttempts: 3, RetryBase: 2 * time.Second, RetryMax: time.Minute, DelayedRecheck: 5 * time.Second}

	transient  = messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream}
	throttled  = messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream, RetryAfter: 7 * time.Second}
	breakerOff = messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstreamDown}
	content    = messages.Failure{Class: messages.User, Reason: messages.ReasonContentPolicy}
	operator   = messages.Failure{Class: messages.Operator, Reason: messages.ReasonUnavailable, Code: "401"}
	blocked    = messages.Failure{Class: messages.User, Reason: messages.ReasonBlocked}
	timeout    = messages.Failure{Class: messages.Transient, Reason: messages.ReasonTimeout, Detail: "job deadline passed"}
)

// job builds a job in a stage with the fields that stage implies.
func job(stage messages.Stage, mods ...func(*messages.Job)) messages.Job {
	j := messages.Job{ID: 7, UserID: 42, Price: 10, Stage: stage}
	switch stage {
	case messages.StageUploading:
		j.GenAttempts, j.GenStartedAt = 1, t0
	case messages.StageSubmitted:
		j.GenAttempts, j.GenStartedAt, j.UploadURL, j.TaskID, j.TasksCreated = 1, t0, "http://up/p.jpg", "task1", 1
	case messages.StageGenerated:
		j.GenAttempts, j.GenStartedAt, j.TaskID, j.TasksCreated, j.ResultURL, j.SendAttempts = 1, t0, "task1", 1, "http://r/1.mp4", 1
	case messages.StageDownloaded:
		j.GenAttempts, j.GenStartedAt, j.TaskID, j.TasksCreated, j.ResultURL, j.SendAttempts, j.FilePath = 1, t0, "task1", 1, "http://r/1.mp4", 1, "/out/7.mp4"
	}
	for _, m := range mods {
		m(&j)
	}
	return j
}

func failed(f messages.Failure) func(*messages.Job) {
	return func(j *messages.Job) { j.Outcome, j.Failure, j.Parked = messages.OutcomeFailed, &f, false }
}

func TestNext(t *testing.T) {
	gen, del := messages.StepGenerate, messages.StepDeliver
	cases := []struct {
		name    string
		in      messages.Job
		ev      messages.JobEvent
		want    messages.Job
		effects []Effect
	}{
		{"a new job starts its first generation attempt",
			job(messages.StageQueued), messages.JobStart{},
			job(messages.StageUploading),
			[]Effect{startChild{gen}, refreshStatus{}}},
		{"a job resumed while uploading uploads again without using an attempt",
			job(messages.StageUploading, func(j *messages.Job) { j.GenAttempts = 2 }), messages.JobStart{},
			job(messages.StageUploading, func(j *messages.Job) { j.GenAttempts = 2 }),
			[]Effect{startChild{gen}, refreshStatus{}}},
		{"a job resumed at submitted polls the same task",
			job(messages.StageSubmitted), messages.JobStart{},
			job(messages.StageSubmitted),
			[]Effect{startChild{gen}, refreshStatus{}}},
		{"a job resumed at generated downloads and sends",
			job(messages.StageGenerated), messages.JobStart{},
			job(messages.StageGenerated),
			[]Effect{startChild{del}, refreshStatus{}}},
		{"a job resumed at downloaded sends the file on disk",
			job(messages.StageDownloaded), messages.JobStart{},
			job(messages.StageDownloaded),
			[]Effect{startChild{del}, refreshStatus{}}},
		{"a job resumed after delivery is captured",
			job(messages.StageDelivered, func(j *messages.Job) { j.FilePath = "/out/7.mp4" }), messages.JobStart{},
			job(messages.StageDelivered, func(j *messages.Job) { j.FilePath, j.Outcome = "/out/7.mp4", messages.OutcomeDone }),
			[]Effect{refreshStatus{}, removeFile{"/out/7.mp4"}}},
		{"a parked job that restarts tries again at once",
			job(messages.StageQueued, func(j *messages.Job) { j.Parked, j.GenAttempts, j.GenStartedAt = true, 1, t0 }), messages.JobStart{},
			job(messages.StageUploading),
			[]Effect{startChild{gen}, refreshStatus{}}},

		{"the upload URL is recorded",
			job(messages.StageUploading), messages.PhotoUploaded{URL: "http://up/p.jpg"},
			job(messages.StageUploading, func(j *messages.Job) { j.UploadURL = "http://up/p.jpg" }),
			nil},
		{"the task id is recorded the moment it exists",
			job(messages.StageUploading), messages.TaskCreated{TaskID: "task1"},
			job(messages.StageUploading, func(j *messages.Job) { j.Stage, j.TaskID, j.TasksCreated = messages.StageSubmitted, "task1", 1 }),
			nil},
		{"a second TaskCreated for a submitted job changes nothing",
			job(messages.StageSubmitted), messages.TaskCreated{TaskID: "task2"},
			job(messages.StageSubmitted), nil},
		{"a generated result starts delivery",
			job(messages.StageSubmitted), messages.Generated{ResultURL: "http://r/1.mp4"},
			job(messages.StageSubmitted, func(j *messages.Job) {
				j.Stage, j.ResultURL, j.SendAttempts = messages.StageGenerated, "http://r/1.mp4", 1
			}),
			[]Effect{startChild{del}, refreshStatus{}}},
		{"a repeated result changes nothing",
			job(messages.StageGenerated), messages.Generated{ResultURL: "http://r/2.mp4"},
			job(messages.StageGenerated), nil},
		{"the downloaded file is recorded",
			job(messages.StageGenerated), messages.Downloaded{Path: "/out/7.mp4"},
			job(messages.StageGenerated, func(j *messages.Job) { j.Stage, j.FilePath = messages.StageDownloaded, "/out/7.mp4" }),
			nil},
		{"delivery ends the job done and removes the file",
			job(messages.StageDownloaded), messages.Delivered{MessageID: 99, FileID: "vid"},
			job(messages.StageDownloaded, func(j *messages.Job) {
				j.Stage, j.MessageID, j.FileID, j.Outcome = messages.StageDelivered, 99, "vid", messages.OutcomeDone
			}),
			[]Effect{refreshStatus{}, removeFile{"/out/7.mp4"}}},
		{"a delivery report for a job still generating is ignored",
			job(messages.StageSubmitted), messages.Delivered{MessageID: 99},
			job(messages.StageSubmitted), nil},

		{"a transient generation failure schedules a new task after a backoff, counting the attempt now",
			job(messages.StageSubmitted), messages.StepFailed{Step: gen, Failure: transient},
			job(messages.StageSubmitted, func(j *messages.Job) { j.Stage, j.TaskID, j.UploadURL, j.GenAttempts = messages.StageQueued, "", "", 2 }),
			[]Effect{scheduleRetry{Step: gen, After: 2 * time.Second}}},
		{"the backoff doubles with each attempt",
			job(messages.StageUploading, func(j *messages.Job) { j.GenAttempts = 2 }), messages.StepFailed{Step: gen, Failure: transient},
			job(messages.StageQueued, func(j *messages.Job) { j.GenAttempts, j.GenStartedAt = 3, t0 }),
			[]Effect{scheduleRetry{Step: gen, After: 4 * time.Second}}},
		{"a rate-limited attempt waits what it was told and is not counted",
			job(messages.StageUploading, func(j *messages.Job) { j.GenAttempts = 3 }), messages.StepFailed{Step: gen, Failure: throttled},
			job(messages.StageQueued, func(j *messages.Job) { j.GenAttempts, j.GenStartedAt = 3, t0 }),
			[]Effect{scheduleRetry{Step: gen, After: 7 * time.Second}}},
		{"a job restarted during a backoff starts the counted attempt without counting it again",
			job(messages.StageQueued, func(j *messages.Job) { j.GenAttempts, j.GenStartedAt = 2, t0 }), messages.JobStart{},
			job(messages.StageUploading, func(j *messages.Job) { j.GenAttempts = 2 }),
			[]Effect{startChild{gen}, refreshStatus{}}},
		{"the third transient generation failure ends the job",
			job(messages.StageSubmitted, func(j *messages.Job) { j.GenAttempts = 3 }), messages.StepFailed{Step: gen, Failure: transient},
			job(messages.StageSubmitted, func(j *messages.Job) { j.GenAttempts = 3 }, failed(transient)),
			[]Effect{stopChildren{}, refreshStatus{}, notifyFailure{}}},
		{"a content-policy failure ends the job at once",
			job(messages.StageSubmitted), messages.StepFailed{Step: gen, Failure: content},
			job(messages.StageSubmitted, failed(content)),
			[]Effect{stopChildren{}, refreshStatus{}, notifyFailure{}}},
		{"an operator failure ends the job at once",
			job(messages.StageUploading), messages.StepFailed{Step: gen, Failure: operator},
			job(messages.StageUploading, failed(operator)),
			[]Effect{stopChildren{}, refreshStatus{}, notifyFailure{}}},
		{"an open breaker parks the job and tells the seller once",
			job(messages.StageUploading), messages.StepFailed{Step: gen, Failure: breakerOff},
			job(messages.StageQueued, func(j *messages.Job) { j.Parked, j.DelayNotified, j.GenAttempts, j.GenStartedAt = true, true, 1, t0 }),
			[]Effect{scheduleRetry{Step: gen, After: 5 * time.Second}, refreshStatus{}, notifyDelayed{}}},
		{"a job parked again is not told again",
			job(messages.StageUploading, func(j *messages.Job) { j.DelayNotified = true }), messages.StepFailed{Step: gen, Failure: breakerOff},
			job(messages.StageQueued, func(j *messages.Job) { j.Parked, j.DelayNotified, j.GenAttempts, j.GenStartedAt = true, true, 1, t0 }),
			[]Effect{scheduleRetry{Step: gen, After: 5 * time.Second}, refreshStatus{}}},
		{"an open breaker while polling an existing task is an ordinary transient failure",
			job(messages.StageSubmitted), messages.StepFailed{Step: gen, Failure: breakerOff},
			job(messages.StageSubmitted, func(j *messages.Job) { j.Stage, j.TaskID, j.UploadURL, j.GenAttempts = messages.StageQueued, "", "", 2 }),
			[]Effect{scheduleRetry{Step: gen, After: 2 * time.Second}}},
		{"a generation failure during delivery is stale",
			job(messages.StageGenerated), messages.StepFailed{Step: gen, Failure: transient},
			job(messages.StageGenerated), nil},

		{"a due retry starts the attempt that was counted when it was scheduled",
			job(messages.StageQueued, func(j *messages.Job) { j.GenAttempts, j.GenStartedAt = 2, t0 }), messages.RetryDue{Step: gen},
			job(messages.StageUploading, func(j *messages.Job) { j.GenAttempts = 2 }),
			[]Effect{startChild{gen}, refreshStatus{}}},
		{"a parked recheck does not use an attempt",
			job(messages.StageQueued, func(j *messages.Job) { j.Parked, j.GenAttempts, j.GenStartedAt = true, 1, t0 }), messages.RetryDue{Step: gen},
			job(messages.StageUploading),
			[]Effect{startChild{gen}, refreshStatus{}}},
		{"a generation retry after the job moved on is stale",
			job(messages.StageGenerated), messages.RetryDue{Step: gen},
			job(messages.StageGenerated), nil},

		{"a transient delivery failure retries delivery, never generation",
			job(messages.StageDownloaded), messages.StepFailed{Step: del, Failure: transient},
			job(messages.StageDownloaded, func(j *messages.Job) { j.SendAttempts = 2 }),
			[]Effect{scheduleRetry{Step: del, After: 2 * time.Second}}},
		{"a 429 on delivery waits retry_after and is not counted",
			job(messages.StageDownloaded, func(j *messages.Job) { j.SendAttempts = 3 }), messages.StepFailed{Step: del, Failure: throttled},
			job(messages.StageDownloaded, func(j *messages.Job) { j.SendAttempts = 3 }),
			[]Effect{scheduleRetry{Step: del, After: 7 * time.Second}}},
		{"the third failed delivery ends the job and removes the file",
			job(messages.StageDownloaded, func(j *messages.Job) { j.SendAttempts = 3 }), messages.StepFailed{Step: del, Failure: transient},
			job(messages.StageDownloaded, func(j *messages.Job) { j.SendAttempts = 3 }, failed(transient)),
			[]Effect{stopChildren{}, refreshStatus{}, notifyFailure{}, removeFile{"/out/7.mp4"}}},
		{"a seller who blocked the bot is not written to again",
			job(messages.StageDownloaded), messages.StepFailed{Step: del, Failure: blocked},
			job(messages.StageDownloaded, failed(blocked)),
			[]Effect{stopChildren{}, refreshStatus{}, removeFile{"/out/7.mp4"}}},
		{"a due delivery retry starts the next delivery",
			job(messages.StageDownloaded, func(j *messages.Job) { j.SendAttempts = 2 }), messages.RetryDue{Step: del},
			job(messages.StageDownloaded, func(j *messages.Job) { j.SendAttempts = 2 }),
			[]Effect{startChild{del}}},

		{"the deadline ends a job in any stage",
			job(messages.StageSubmitted), messages.DeadlinePassed{},
			job(messages.StageSubmitted, failed(timeout)),
			[]Effect{stopChildren{}, refreshStatus{}, notifyFailure{}}},
		{"the deadline releases a parked job",
			job(messages.StageQueued, func(j *messages.Job) { j.Parked, j.DelayNotified = true, true }), messages.DeadlinePassed{},
			job(messages.StageQueued, func(j *messages.Job) { j.DelayNotified = true }, failed(timeout)),
			[]Effect{stopChildren{}, refreshStatus{}, notifyFailure{}}},
		{"a terminal job ignores everything",
			job(messages.StageSubmitted, failed(content)), messages.Generated{ResultURL: "http://late"},
			job(messages.StageSubmitted, failed(content)), nil},
		{"a terminal job ignores its deadline",
			job(messages.StageDelivered, func(j *messages.Job) { j.Outcome = messages.OutcomeDone }), messages.DeadlinePassed{},
			job(messages.StageDelivered, func(j *messages.Job) { j.Outcome = messages.OutcomeDone }), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, effects := next(c.in, c.ev, policy, t0)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("job:\n got %+v\nwant %+v", got, c.want)
			}
			if !reflect.DeepEqual(effects, c.effects) {
				t.Errorf("effects:\n got %#v\nwant %#v", effects, c.effects)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 3: 8 * time.Second, 10: time.Minute} {
		if got := backoff(policy, n, 0); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
	if got := backoff(policy, 1, 30*time.Second); got != 30*time.Second {
		t.Errorf("backoff with retry-after = %v", got)
	}
}
