package actors

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"neurocards/messages"
)

var (
	t0     = time.Date(2026, 11, 28, 14, 3, 0, 0, time.UTC)
	policy = Policy{GenAttempts: 3, SendAttempts: 3, RetryBase: 2 * time.Second, RetryMax: time.Minute, DelayedRecheck: 5 * time.Second,
		PollMin: 2 * time.Second, PollMax: 30 * time.Second, KIEAttempt: 10 * time.Minute, StatusInterval: 3 * time.Second, StatusTick: 15 * time.Second}

	transient  = messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream}
	throttled  = messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream, RetryAfter: 7 * time.Second}
	breakerOff = messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstreamDown}
	content    = messages.Failure{Class: messages.User, Reason: messages.ReasonContentPolicy}
	refusedKey = messages.Failure{Class: messages.Operator, Reason: messages.ReasonUnavailable, Code: "401"}
	blocked    = messages.Failure{Class: messages.User, Reason: messages.ReasonBlocked}
)

// state builds a running job's state in a stage, with the fields that stage implies and its
// current attempt's child working.
func state(stage messages.Stage, mods ...func(*jobState)) jobState {
	j := messages.Job{ID: 7, UserID: 42, ChatID: 42, Lang: "en", Kind: "video", Price: 10, Stage: stage,
		CreatedAt: t0, Deadline: t0.Add(30 * time.Minute), StatusMessageID: 500}
	s := jobState{Title: "🎬 Video"}
	switch stage {
	case messages.StageUploading:
		j.GenAttempts, j.GenStartedAt = 1, t0
		s.GenRun, s.GenActive, s.Live = 1, true, 1
		s.Armed[tAttempt] = true
	case messages.StageSubmitted:
		j.GenAttempts, j.GenStartedAt, j.UploadURL, j.TaskID, j.TasksCreated = 1, t0, "http://up/p.jpg", "task1", 1
		s.GenRun, s.Live = 1, 1
		s.Armed[tAttempt], s.Armed[tPoll] = true, true
	case messages.StageGenerated:
		j.GenAttempts, j.GenStartedAt, j.TaskID, j.TasksCreated, j.ResultURL, j.SendAttempts = 1, t0, "task1", 1, "http://r/1.mp4", 1
		s.SendRun, s.SendActive, s.Live = 1, true, 1
	case messages.StageDownloaded:
		j.GenAttempts, j.GenStartedAt, j.TaskID, j.TasksCreated, j.ResultURL, j.SendAttempts, j.FilePath = 1, t0, "task1", 1, "http://r/1.mp4", 1, "/out/7.mp4"
		s.SendRun, s.SendActive, s.Live = 1, true, 1
	}
	s.Armed[tDeadline] = true
	s.Job = j
	for _, m := range mods {
		m(&s)
	}
	return s
}

// fresh is a job as the session stores it at confirmation: queued, nothing running yet.
func fresh(mods ...func(*jobState)) jobState {
	s := jobState{Title: "🎬 Video", Job: messages.Job{ID: 7, UserID: 42, ChatID: 42, Lang: "en", Kind: "video", Price: 10,
		Stage: messages.StageQueued, CreatedAt: t0, Deadline: t0.Add(30 * time.Minute)}}
	for _, m := range mods {
		m(&s)
	}
	return s
}

// show renders effects compactly, so a table reads like the sequence of work.
func show(effects []Effect) string {
	var out []string
	for _, e := range effects {
		switch e := e.(type) {
		case spawnChild:
			out = append(out, "spawn:"+string(e.Step))
		case retireChild:
			out = append(out, "retire:"+string(e.Step))
		case readTask:
			out = append(out, "read:"+e.TaskID)
		case armTimer:
			out = append(out, fmt.Sprintf("arm:%s:%v", timerNames[e.Timer], e.After))
		case cancelTimer:
			out = append(out, "cancel:"+timerNames[e.Timer])
		case postStatus:
			out = append(out, "post")
		case editStatus:
			out = append(out, "edit")
		case say:
			out = append(out, "say")
		case report:
			out = append(out, "report")
		case removeFile:
			out = append(out, "rm:"+e.Path)
		case markTold:
			out = append(out, "told")
		case stopSelf:
			out = append(out, "stop")
		case logFailure:
			out = append(out, "log:"+string(e.F.Reason))
		case joinLine:
			out = append(out, "join")
		case leaveLine:
			out = append(out, "leave")
		default:
			out = append(out, fmt.Sprintf("%T", e))
		}
	}
	return strings.Join(out, " ")
}

var timerNames = map[timer]string{tDeadline: "deadline", tAttempt: "attempt", tRetryGen: "retry-gen", tRetryDeliver: "retry-deliver",
	tPoll: "poll", tStatusDue: "status-due", tStatusTick: "status-tick", tResend: "resend"}

func TestJobMachine(t *testing.T) {
	gen, del := messages.StepGenerate, messages.StepDeliver
	type check func(t *testing.T, s jobState)
	stage := func(want messages.Stage) check {
		return func(t *testing.T, s jobState) {
			if s.Job.Stage != want {
				t.Errorf("stage %s, want %s", s.Job.Stage, want)
			}
		}
	}
	phaseIs := func(want phase) check {
		return func(t *testing.T, s jobState) {
			if s.Phase != want {
				t.Errorf("phase %d, want %d", s.Phase, want)
			}
		}
	}
	attempts := func(g, d int) check {
		return func(t *testing.T, s jobState) {
			if s.Job.GenAttempts != g || s.Job.SendAttempts != d {
				t.Errorf("attempts %d/%d, want %d/%d", s.Job.GenAttempts, s.Job.SendAttempts, g, d)
			}
		}
	}
	failedWith := func(r messages.Reason) check {
		return func(t *testing.T, s jobState) {
			if s.Job.Failure == nil || s.Job.Failure.Reason != r {
				t.Errorf("failure %+v, want %s", s.Job.Failure, r)
			}
			if s.Job.Terminal() {
				t.Error("the job made itself terminal: only its session settles it")
			}
		}
	}
	settledAs := func(s jobState, outcome messages.Outcome, f *messages.Failure) messages.JobSettled {
		j := s.Job
		j.Outcome, j.Failure = outcome, f
		return messages.JobSettled{Job: j}
	}
	cases := []struct {
		name    string
		in      jobState
		ev      any
		effects string
		checks  []check
	}{
		// Starting and resuming.
		{"a new job waits in the line for a createTask slot and posts its status",
			fresh(), messages.JobStart{},
			"arm:deadline:30m0s join post arm:status-tick:15s",
			[]check{stage(messages.StageQueued), attempts(1, 0)}},
		{"its slot starts the first generation attempt",
			fresh(func(s *jobState) { s.InLine, s.Job.GenAttempts, s.Job.StatusMessageID = true, 1, 500 }), messages.SlotGranted{},
			"arm:attempt:10m0s spawn:generate arm:status-tick:15s edit",
			[]check{stage(messages.StageUploading), attempts(1, 0)}},
		{"a slot for a job no longer in the line starts nothing",
			fresh(func(s *jobState) { s.Job.StatusMessageID = 500 }), messages.SlotGranted{},
			"", []check{stage(messages.StageQueued)}},
		{"a job waiting in the line shows its place and start",
			fresh(func(s *jobState) { s.InLine, s.Job.StatusMessageID, s.Shown = true, 500, "old" }), lineMoved{Place: 37, Start: 3 * time.Minute},
			"arm:status-tick:15s edit", []check{func(t *testing.T, s jobState) {
				if !strings.Contains(s.Shown, "#37") || !strings.Contains(s.Shown, "3 min") {
					t.Errorf("status %q", s.Shown)
				}
			}}},
		{"a job resumed while uploading queues again without using an attempt",
			fresh(func(s *jobState) {
				s.Job.Stage, s.Job.GenAttempts, s.Job.StatusMessageID = messages.StageUploading, 2, 500
			}), messages.JobStart{},
			"arm:deadline:30m0s join arm:status-tick:15s arm:status-due:3s",
			[]check{stage(messages.StageQueued), attempts(2, 0)}},
		{"a job resumed at submitted reads its task at once and creates none",
			fresh(func(s *jobState) {
				s.Job.Stage, s.Job.TaskID, s.Job.GenAttempts, s.Job.StatusMessageID = messages.StageSubmitted, "task1", 1, 500
			}), messages.JobStart{},
			"arm:deadline:30m0s arm:attempt:10m0s read:task1 arm:status-tick:15s arm:status-due:3s",
			[]check{stage(messages.StageSubmitted)}},
		{"a job resumed at submitted among many waits its turn to read",
			fresh(func(s *jobState) {
				s.Job.Stage, s.Job.TaskID, s.Job.GenAttempts, s.Job.StatusMessageID, s.FirstRead = messages.StageSubmitted, "task1", 1, 500, 1500*time.Millisecond
			}), messages.JobStart{},
			"arm:deadline:30m0s arm:attempt:10m0s arm:poll:1.5s arm:status-tick:15s arm:status-due:3s",
			[]check{stage(messages.StageSubmitted)}},
		{"a job resumed at generated delivers",
			fresh(func(s *jobState) {
				s.Job.Stage, s.Job.ResultURL, s.Job.StatusMessageID = messages.StageGenerated, "http://r/1.mp4", 500
			}), messages.JobStart{},
			"arm:deadline:30m0s spawn:deliver arm:status-due:3s",
			[]check{attempts(0, 1)}},
		{"a job resumed after delivery reports it",
			fresh(func(s *jobState) { s.Job.Stage, s.Job.MessageID = messages.StageDelivered, 99 }), messages.JobStart{},
			"report",
			[]check{phaseIs(ending)}},
		{"a job resumed with a decided failure reports it again",
			fresh(func(s *jobState) { s.Job.Failure = &content }), messages.JobStart{},
			"report",
			[]check{phaseIs(ending)}},
		{"a job resumed past its deadline fails at once",
			fresh(func(s *jobState) { s.Job.Deadline = t0.Add(-time.Minute); s.Job.StatusMessageID = 500 }), messages.JobStart{},
			"arm:deadline:0s join arm:status-tick:15s arm:status-due:3s",
			nil},
		{"an ended job whose seller was not told is told, then stops",
			fresh(func(s *jobState) {
				s.Job.Outcome, s.Job.Failure, s.Job.StatusMessageID = messages.OutcomeFailed, &content, 500
			}), messages.JobStart{},
			"edit say",
			[]check{phaseIs(telling)}},

		// Generation.
		{"the upload URL is recorded",
			state(messages.StageUploading), messages.PhotoUploaded{Run: 1, URL: "http://up/p.jpg"},
			"", []check{func(t *testing.T, s jobState) {
				if s.Job.UploadURL != "http://up/p.jpg" {
					t.Errorf("upload url %q", s.Job.UploadURL)
				}
			}}},
		{"the task id is recorded and the first read is armed",
			state(messages.StageUploading), messages.TaskCreated{Run: 1, TaskID: "task1"},
			"retire:generate arm:poll:2s",
			[]check{stage(messages.StageSubmitted), func(t *testing.T, s jobState) {
				if s.Job.TaskID != "task1" || s.Job.TasksCreated != 1 || s.GenActive {
					t.Errorf("task %q created %d active %v", s.Job.TaskID, s.Job.TasksCreated, s.GenActive)
				}
			}}},
		{"a task created by an older attempt is stale",
			state(messages.StageUploading, func(s *jobState) { s.GenRun = 2 }), messages.TaskCreated{Run: 1, TaskID: "old"},
			"", []check{stage(messages.StageUploading)}},
		{"a poll reads the task",
			state(messages.StageSubmitted), tick{tPoll},
			"read:task1", nil},
		{"a task still running is read again later, backing off",
			state(messages.StageSubmitted, func(s *jobState) { s.Reading, s.Reads, s.Armed[tPoll] = "task1", 3, false }), messages.TaskRead{TaskID: "task1"},
			"arm:poll:4.5s", nil},
		{"a read that KIE did not answer is tried again without using an attempt",
			state(messages.StageSubmitted, func(s *jobState) { s.Reading, s.Reads, s.Armed[tPoll] = "task1", 1, false }),
			messages.TaskRead{TaskID: "task1", Failure: &throttled},
			"log:upstream arm:poll:7s", []check{attempts(1, 0)}},
		{"a finished task starts delivery",
			state(messages.StageSubmitted, func(s *jobState) { s.Reading, s.Armed[tPoll] = "task1", false }),
			messages.TaskRead{TaskID: "task1", Finished: true, ResultURL: "http://r/1.mp4"},
			"cancel:attempt spawn:deliver edit",
			[]check{stage(messages.StageGenerated), attempts(1, 1)}},
		{"KIE's callback reads the task at once",
			state(messages.StageSubmitted), messages.TaskCallback{JobID: 7, TaskID: "task1"},
			"cancel:poll read:task1", nil},
		{"a callback during a read asks for another read if that one saw nothing",
			state(messages.StageSubmitted, func(s *jobState) { s.Reading, s.Armed[tPoll] = "task1", false }), messages.TaskCallback{JobID: 7, TaskID: "task1"},
			"", []check{func(t *testing.T, s jobState) {
				if !s.Recheck {
					t.Error("no recheck")
				}
			}}},
		{"the recheck reads again at once",
			state(messages.StageSubmitted, func(s *jobState) { s.Reading, s.Recheck, s.Armed[tPoll] = "task1", true, false }), messages.TaskRead{TaskID: "task1"},
			"read:task1", nil},
		{"a callback for another task is stale",
			state(messages.StageSubmitted), messages.TaskCallback{JobID: 7, TaskID: "task0"},
			"", nil},
		{"a callback after the job moved on changes nothing",
			state(messages.StageGenerated), messages.TaskCallback{JobID: 7, TaskID: "task1"},
			"", []check{stage(messages.StageGenerated)}},
		{"a read of another task is stale",
			state(messages.StageSubmitted, func(s *jobState) { s.Reading = "task1" }),
			messages.TaskRead{TaskID: "task0", Finished: true, ResultURL: "http://late"},
			"", []check{stage(messages.StageSubmitted)}},
		{"KIE failing the task on content ends the job",
			state(messages.StageSubmitted, func(s *jobState) { s.Reading, s.Armed[tPoll] = "task1", false }),
			messages.TaskRead{TaskID: "task1", Finished: true, Failure: &content},
			"log:content_policy cancel:attempt cancel:deadline report",
			[]check{failedWith(messages.ReasonContentPolicy), phaseIs(ending)}},
		{"a transient generation failure schedules a new task after a backoff, counting the attempt now",
			state(messages.StageUploading), messages.StepFailed{Run: 1, Step: gen, Failure: transient},
			"retire:generate log:upstream cancel:attempt arm:retry-gen:2s arm:status-tick:15s edit",
			[]check{stage(messages.StageQueued), attempts(2, 0)}},
		{"the backoff doubles with each attempt",
			state(messages.StageUploading, func(s *jobState) { s.Job.GenAttempts = 2 }), messages.StepFailed{Run: 1, Step: gen, Failure: transient},
			"retire:generate log:upstream cancel:attempt arm:retry-gen:4s arm:status-tick:15s edit",
			[]check{attempts(3, 0)}},
		{"a rate-limited attempt waits what it was told and is not counted",
			state(messages.StageUploading, func(s *jobState) { s.Job.GenAttempts = 3 }), messages.StepFailed{Run: 1, Step: gen, Failure: throttled},
			"retire:generate log:upstream cancel:attempt arm:retry-gen:7s arm:status-tick:15s edit",
			[]check{attempts(3, 0)}},
		{"the third transient generation failure ends the job",
			state(messages.StageUploading, func(s *jobState) { s.Job.GenAttempts = 3 }), messages.StepFailed{Run: 1, Step: gen, Failure: transient},
			"retire:generate log:upstream cancel:attempt cancel:deadline report",
			[]check{failedWith(messages.ReasonUpstream)}},
		{"an operator failure ends the job at once",
			state(messages.StageUploading), messages.StepFailed{Run: 1, Step: gen, Failure: refusedKey},
			"retire:generate log:unavailable cancel:attempt cancel:deadline report",
			[]check{failedWith(messages.ReasonUnavailable)}},
		{"an unreachable KIE parks the job without an attempt and tells the seller once",
			state(messages.StageUploading), messages.StepFailed{Run: 1, Step: gen, Failure: breakerOff},
			"retire:generate log:upstream_down cancel:attempt join say edit",
			[]check{stage(messages.StageQueued), attempts(1, 0), func(t *testing.T, s jobState) {
				if !s.Job.Parked || !s.Job.DelayNotified {
					t.Errorf("parked %v told %v", s.Job.Parked, s.Job.DelayNotified)
				}
			}}},
		{"a job parked again is not told again",
			state(messages.StageUploading, func(s *jobState) { s.Job.DelayNotified = true }), messages.StepFailed{Run: 1, Step: gen, Failure: breakerOff},
			"retire:generate log:upstream_down cancel:attempt join edit", nil},
		{"a parked job goes again when the line lets it, without an attempt",
			state(messages.StageQueued, func(s *jobState) {
				s.Job.Parked, s.Job.GenAttempts, s.GenActive, s.Live, s.InLine = true, 1, false, 0, true
			}), messages.SlotGranted{},
			"arm:attempt:10m0s spawn:generate arm:status-tick:15s edit",
			[]check{stage(messages.StageUploading), attempts(1, 0)}},
		{"the attempt's deadline abandons it and schedules another",
			state(messages.StageSubmitted, func(s *jobState) { s.Reading = "task1" }), tick{tAttempt},
			"cancel:poll arm:retry-gen:2s arm:status-tick:15s edit",
			[]check{stage(messages.StageQueued), attempts(2, 0), func(t *testing.T, s jobState) {
				if s.Job.TaskID != "" || s.Reading != "" {
					t.Errorf("task %q reading %q", s.Job.TaskID, s.Reading)
				}
			}}},
		{"a generation failure during delivery is stale",
			state(messages.StageGenerated), messages.StepFailed{Run: 1, Step: gen, Failure: transient},
			"", []check{stage(messages.StageGenerated)}},
		{"a generation retry after the job moved on is ignored",
			state(messages.StageGenerated, func(s *jobState) { s.Armed[tRetryGen] = true }), tick{tRetryGen},
			"", []check{stage(messages.StageGenerated)}},
		{"a timer that was cancelled does nothing when its message arrives late",
			state(messages.StageSubmitted, func(s *jobState) { s.Armed[tPoll] = false }), tick{tPoll},
			"", nil},

		// Delivery.
		{"the downloaded file is recorded",
			state(messages.StageGenerated), messages.Downloaded{Run: 1, Path: "/out/7.mp4"},
			"", []check{stage(messages.StageDownloaded)}},
		{"delivery is reported to the session, which settles the money",
			state(messages.StageDownloaded), messages.Delivered{Run: 1, MessageID: 99, FileID: "vid"},
			"retire:deliver cancel:deadline report",
			[]check{stage(messages.StageDelivered), phaseIs(ending)}},
		{"a transient delivery failure retries delivery, never generation",
			state(messages.StageDownloaded), messages.StepFailed{Run: 1, Step: del, Failure: transient},
			"retire:deliver log:upstream arm:retry-deliver:2s",
			[]check{stage(messages.StageDownloaded), attempts(1, 2)}},
		{"a 429 on delivery waits retry_after and is not counted",
			state(messages.StageDownloaded, func(s *jobState) { s.Job.SendAttempts = 3 }), messages.StepFailed{Run: 1, Step: del, Failure: throttled},
			"retire:deliver log:upstream arm:retry-deliver:7s", []check{attempts(1, 3)}},
		{"the third failed delivery ends the job",
			state(messages.StageDownloaded, func(s *jobState) { s.Job.SendAttempts = 3 }), messages.StepFailed{Run: 1, Step: del, Failure: transient},
			"retire:deliver log:upstream cancel:deadline report", []check{failedWith(messages.ReasonUpstream)}},
		{"a due delivery retry starts the next delivery",
			state(messages.StageDownloaded, func(s *jobState) { s.SendActive, s.Live, s.Armed[tRetryDeliver] = false, 0, true }), tick{tRetryDeliver},
			"spawn:deliver", nil},
		{"a delivery report for a job still generating is stale",
			state(messages.StageSubmitted), messages.Delivered{Run: 1, MessageID: 99},
			"", []check{stage(messages.StageSubmitted)}},

		// The deadline.
		{"the deadline ends a job in any stage",
			state(messages.StageSubmitted), tick{tDeadline},
			"cancel:attempt cancel:poll report", []check{failedWith(messages.ReasonTimeout)}},
		{"the deadline releases a parked job",
			state(messages.StageQueued, func(s *jobState) { s.Job.Parked, s.GenActive, s.Live = true, false, 0 }), tick{tDeadline},
			"report", []check{failedWith(messages.ReasonTimeout), func(t *testing.T, s jobState) {
				if s.Job.Parked {
					t.Error("still parked")
				}
			}}},

		// Settling and telling.
		{"a settled delivery shows done and stops",
			state(messages.StageDelivered, func(s *jobState) { s.Phase, s.Live, s.SendActive, s.Armed = ending, 0, false, [timers]bool{} }),
			settledAs(state(messages.StageDelivered), messages.OutcomeDone, nil),
			"edit", []check{phaseIs(telling)}},
		{"a settled failure explains it with a retry button",
			state(messages.StageSubmitted, func(s *jobState) { s.Phase, s.Live, s.Armed = ending, 0, [timers]bool{} }),
			settledAs(state(messages.StageSubmitted), messages.OutcomeFailed, &content),
			"edit say", nil},
		{"a seller who blocked the bot is not written to again",
			state(messages.StageDownloaded, func(s *jobState) { s.Phase, s.Live, s.SendActive, s.Armed = ending, 0, false, [timers]bool{} }),
			settledAs(state(messages.StageDownloaded), messages.OutcomeFailed, &blocked),
			"rm:/out/7.mp4 edit", nil},
		{"once the seller is told, the job records it and stops",
			state(messages.StageDelivered, func(s *jobState) {
				s.Phase, s.Live, s.SendActive, s.InFlight, s.Armed = telling, 0, false, 1, [timers]bool{}
				s.Job.Outcome = messages.OutcomeDone
			}), sent{},
			"told stop", nil},
		{"a message Telegram could not take is sent again later",
			state(messages.StageSubmitted, func(s *jobState) {
				s.Phase, s.Live, s.InFlight, s.Armed = telling, 0, 1, [timers]bool{}
				s.Job.Outcome, s.Job.Failure = messages.OutcomeFailed, &content
			}), sent{Retryable: true},
			"arm:resend:5s", []check{func(t *testing.T, s jobState) {
				if !s.SayPending || s.Done {
					t.Errorf("pending %v done %v", s.SayPending, s.Done)
				}
			}}},
		{"when Telegram is back, the message goes again",
			state(messages.StageSubmitted, func(s *jobState) {
				s.Phase, s.Live, s.SayPending, s.Armed = telling, 0, true, [timers]bool{tResend: true}
				s.Job.Outcome, s.Job.Failure = messages.OutcomeFailed, &content
			}), tick{tResend},
			"say", nil},
		{"a stop before it went leaves it for the next start",
			state(messages.StageSubmitted, func(s *jobState) {
				s.Phase, s.Live, s.SayPending, s.Armed = telling, 0, true, [timers]bool{tResend: true}
				s.Job.Outcome, s.Job.Failure = messages.OutcomeFailed, &content
			}), messages.Stop{},
			"cancel:resend stop", []check{func(t *testing.T, s jobState) {
				if !s.Untold {
					t.Error("not left for the next start")
				}
			}}},
		{"a delivery Telegram does not answer waits without an attempt",
			state(messages.StageDownloaded), messages.StepFailed{Run: 1, Step: del, Failure: breakerOff},
			"retire:deliver log:upstream_down arm:retry-deliver:5s", []check{attempts(1, 1)}},
		{"the outcome waits for the edit interval before the job stops",
			state(messages.StageDelivered, func(s *jobState) {
				s.Phase, s.Live, s.SendActive, s.Armed, s.LastEdit, s.Shown = ending, 0, false, [timers]bool{}, t0.Add(-time.Second), "old"
			}),
			settledAs(state(messages.StageDelivered), messages.OutcomeDone, nil),
			"arm:status-due:2s", nil},

		// Cancel.
		{"a cancel while generating stops the child and waits for it",
			state(messages.StageUploading), messages.CancelJob{},
			"retire:generate cancel:deadline cancel:attempt", []check{phaseIs(cancelled)}},
		{"a cancelled job reports once its children have stopped",
			state(messages.StageUploading, func(s *jobState) { s.Phase, s.GenActive, s.Armed = cancelled, false, [timers]bool{} }), childStopped{},
			"report", []check{failedWith(messages.ReasonCancelled), phaseIs(ending)}},
		{"a task created while cancelling is still recorded",
			state(messages.StageUploading, func(s *jobState) { s.Phase, s.GenActive, s.Armed = cancelled, false, [timers]bool{} }),
			messages.TaskCreated{Run: 1, TaskID: "task9"},
			"", []check{stage(messages.StageSubmitted)}},
		{"a delivery that beats the cancel wins: the job reports delivered",
			state(messages.StageDelivered, func(s *jobState) { s.Phase, s.SendActive, s.Live, s.Armed = cancelled, false, 1, [timers]bool{} }), childStopped{},
			"report", []check{stage(messages.StageDelivered), func(t *testing.T, s jobState) {
				if s.Job.Failure != nil {
					t.Errorf("failure %+v on a delivered job", s.Job.Failure)
				}
			}}},
		{"a cancel of a job already reported changes nothing",
			state(messages.StageDelivered, func(s *jobState) { s.Phase, s.Live, s.SendActive, s.Armed = ending, 0, false, [timers]bool{} }), messages.CancelJob{},
			"", []check{phaseIs(ending)}},
		{"a queued job with nothing running reports cancelled at once",
			state(messages.StageQueued, func(s *jobState) { s.GenActive, s.Live, s.Armed[tRetryGen] = false, 0, true }), messages.CancelJob{},
			"cancel:deadline cancel:retry-gen report", []check{failedWith(messages.ReasonCancelled)}},

		// Stop (shutdown).
		{"a stop while uploading stops the child and waits for it",
			state(messages.StageUploading), messages.Stop{},
			"retire:generate cancel:deadline cancel:attempt", nil},
		{"a stopping job stops once its child has",
			state(messages.StageUploading, func(s *jobState) { s.Stopping, s.GenActive, s.Armed = true, false, [timers]bool{} }), childStopped{},
			"stop", nil},
		{"a stopping job still records the task its child created",
			state(messages.StageUploading, func(s *jobState) { s.Stopping, s.Armed = true, [timers]bool{} }), messages.TaskCreated{Run: 1, TaskID: "task9"},
			"retire:generate", []check{stage(messages.StageSubmitted)}},
		{"a stopping job records a delivery but leaves settling to the next start",
			state(messages.StageDownloaded, func(s *jobState) { s.Stopping, s.Armed = true, [timers]bool{} }), messages.Delivered{Run: 1, MessageID: 99},
			"retire:deliver", []check{stage(messages.StageDelivered), phaseIs(running)}},
		{"a stop while submitted stops reading",
			state(messages.StageSubmitted, func(s *jobState) { s.Live = 0 }), messages.Stop{},
			"cancel:deadline cancel:attempt cancel:poll stop", nil},
		{"a stop while telling shows the outcome now",
			state(messages.StageDelivered, func(s *jobState) {
				s.Phase, s.Live, s.SendActive, s.Armed, s.Shown = telling, 0, false, [timers]bool{tStatusDue: true}, "old"
				s.Job.Outcome = messages.OutcomeDone
			}), messages.Stop{},
			"cancel:status-due edit", nil},
		{"a stopped job does nothing more",
			state(messages.StageUploading, func(s *jobState) { s.Done = true }), messages.TaskCreated{Run: 1, TaskID: "x"},
			"", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, effects := next(c.in, c.ev, policy, t0)
			if s := show(effects); s != c.effects {
				t.Errorf("effects:\n got %s\nwant %s", s, c.effects)
			}
			for _, ch := range c.checks {
				ch(t, got)
			}
		})
	}
	// A stale event changes nothing at all.
	for _, in := range []struct {
		s  jobState
		ev any
	}{
		{state(messages.StageSubmitted), messages.TaskCreated{Run: 1, TaskID: "task2"}},
		{state(messages.StageGenerated), messages.Downloaded{Run: 7, Path: "/x"}},
		{state(messages.StageUploading, func(s *jobState) { s.Done = true }), tick{tDeadline}},
	} {
		got, effects := next(in.s, in.ev, policy, t0)
		if len(effects) != 0 || got.Job != in.s.Job {
			t.Errorf("%T changed the job or did %s", in.ev, show(effects))
		}
	}
}

// A whole job through the machine, with time moving: the status message is edited at most once
// per interval, and only when its text changes.
func TestJobStatusPacing(t *testing.T) {
	s, now := fresh(), t0
	var edits []time.Time
	feed := func(ev any) {
		var effects []Effect
		s, effects = next(s, ev, policy, now)
		for _, e := range effects {
			if _, ok := e.(editStatus); ok {
				edits = append(edits, now)
			}
		}
	}
	feed(messages.JobStart{})
	feed(messages.SlotGranted{})
	feed(statusPosted{MessageID: 500})
	feed(messages.PhotoUploaded{Run: 1, URL: "u"})
	feed(messages.TaskCreated{Run: 1, TaskID: "task1"})
	for i := 0; i < 40; i++ {
		now = now.Add(time.Second)
		if s.Armed[tStatusTick] && i%15 == 14 {
			feed(tick{tStatusTick})
		}
		if s.Armed[tStatusDue] && i%3 == 2 {
			feed(tick{tStatusDue})
		}
		if s.InFlight > 0 {
			feed(sent{})
		}
	}
	for i := 1; i < len(edits); i++ {
		if gap := edits[i].Sub(edits[i-1]); gap < policy.StatusInterval {
			t.Errorf("edits %v apart", gap)
		}
	}
	if len(edits) == 0 {
		t.Error("the elapsed time never moved on the status message")
	}
}

// TestPollSchedule: with the model's window known (results between 3 and 5 minutes), a job reads
// sparsely before it, every PollDense inside it, and backs off past it.
func TestPollSchedule(t *testing.T) {
	p := policy
	p.PollDense = 8 * time.Second // the table is written for 8 s
	for _, c := range []struct {
		elapsed time.Duration
		want    time.Duration
	}{
		{0, time.Minute}, // far from the window: look in a minute
		{2*time.Minute + 30*time.Second, 22 * time.Second}, // arrive as the window opens
		{2*time.Minute + 55*time.Second, 8 * time.Second},  // just before: the dense pace
		{4 * time.Minute, 8 * time.Second},
		{5*time.Minute + 40*time.Second, 18 * time.Second}, // past the tail: backing off
		{20 * time.Minute, 30 * time.Second},
	} {
		s := state(messages.StageSubmitted, func(s *jobState) {
			s.Reading, s.Armed[tPoll], s.TaskAt, s.Lo, s.Hi = "task1", false, t0, 3*time.Minute, 5*time.Minute
		})
		_, effects := next(s, messages.TaskRead{TaskID: "task1"}, p, t0.Add(c.elapsed))
		if got := show(effects); got != fmt.Sprintf("arm:poll:%v", c.want) {
			t.Errorf("%v into the task: %s, want a read in %v", c.elapsed, got, c.want)
		}
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
