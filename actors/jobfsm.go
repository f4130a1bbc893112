package actors

import (
	"time"

	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/telegram"
	"neurocards/texts"
)

// Policy is the part of the configuration the job state machine decides with.
type Policy struct {
	GenAttempts    int
	SendAttempts   int
	RetryBase      time.Duration
	RetryMax       time.Duration
	DelayedRecheck time.Duration // how often a job parked by an unreachable upstream looks again
	PollMin        time.Duration // first wait before reading a KIE task, and the shortest
	PollMax        time.Duration
	PollDense      time.Duration // the wait between reads where a result is likely
	// Callbacks: KIE calls back when a task changes, so reads are only a fallback, every PollSlow.
	Callbacks      bool
	PollSlow       time.Duration
	KIEAttempt     time.Duration // one generation attempt, from its start to KIE's answer
	StatusInterval time.Duration // at most one status edit per interval
	StatusTick     time.Duration // how often the elapsed time in the status moves on
}

// phase is where a job is in its life in this process.
type phase int

const (
	running   phase = iota // generating or delivering
	ending                 // the outcome is decided and reported; the session settles the money
	telling                // settled: the seller is being told, then the actor stops
	cancelled              // asked to cancel: waiting for its children before reporting
)

// timer names a job's timers. Each is armed at most once at a time; arming it again replaces it.
type timer int

const (
	tDeadline     timer = iota // the whole job's deadline
	tAttempt                   // the current generation attempt's deadline
	tRetryGen                  // restart generation after a backoff (or a parked job looks again)
	tRetryDeliver              // restart delivery after a backoff
	tPoll                      // read the KIE task again
	tStatusDue                 // the status edit interval has passed
	tStatusTick                // the elapsed time in the status moves on
	tResend                    // try again what Telegram could not take about the outcome
	timers
)

// jobState is everything a job actor knows: the persisted job and what lives only in memory.
// It is a value: next returns a new one, so every transition is a table test.
type jobState struct {
	Job   messages.Job
	Title string // the kind's title in the seller's language, for the status message
	Phase phase
	// FirstRead is how long a job resumed with a task waits before reading it: the restart
	// spreads ten thousand reads rather than sending them at once.
	FirstRead time.Duration

	GenRun, SendRun       int  // the current attempt of each child
	GenActive, SendActive bool // that attempt's child is working
	Live                  int  // children spawned and not yet stopped
	Reading               string
	Reads                 int // reads of the current task in this process
	// TaskAt is when the current task was created; Lo and Hi are where its result is likely,
	// as the model's timings say (0: unknown, back off by reads).
	TaskAt  time.Time
	Lo, Hi  time.Duration
	Recheck bool // a callback came during a read: read again if that one saw nothing
	Armed   [timers]bool

	// The line of jobs waiting to create a KIE task (actors.Line): whether this job is in it,
	// and its place and expected start as last heard.
	InLine bool
	Place  int
	Start  time.Duration

	// Telling the seller: the failure message has not gone yet; the status edit failed and
	// must be made again. Both are tried again until Telegram takes them.
	SayPending  bool
	EditPending bool

	// The status message: what it shows, when it was last edited, and what is on its way.
	Posting  bool
	Shown    string
	LastEdit time.Time
	InFlight int // status edits and messages sent and not yet answered

	Stopping bool // shutting down: persist what children learn, start nothing, tell nothing
	Untold   bool // a message about the outcome may not have arrived: tell again at the next start
	Done     bool // the actor has stopped itself
}

// run is the current attempt of a step.
func (s jobState) run(step messages.Step) int {
	if step == messages.StepDeliver {
		return s.SendRun
	}
	return s.GenRun
}

// Events the job actor feeds the machine besides the children's reports (messages.JobEvent).
type (
	// tick: a timer fired.
	tick struct{ Timer timer }
	// statusPosted: the status message was sent (MessageID 0: it was not).
	statusPosted struct{ MessageID int }
	// sent: a status edit (Edit) or a message has gone, or failed (Retryable: it may pass).
	sent struct {
		Edit      bool
		Retryable bool
	}
	// expect: where the model's results are likely, from what the bot has learned of it.
	expect struct{ Lo, Hi time.Duration }
	// lineMoved: the job's place in the line and its expected start, as the line says now, and
	// whether the line is held because KIE is not answering.
	lineMoved struct {
		Place int
		Start time.Duration
		Down  bool
	}
	// childStopped: a child actor stopped for good.
	childStopped struct{}
)

// Effect is work the job actor carries out after persisting the state next returned.
type Effect interface{ effect() }

type (
	spawnChild  struct{ Step messages.Step } // start the step's current attempt
	retireChild struct{ Step messages.Step } // the step's attempt is over or abandoned: stop its child
	readTask    struct{ TaskID string }      // ask KIE about the task once; the answer is a TaskRead
	armTimer    struct {
		Timer timer
		After time.Duration
	}
	cancelTimer struct{ Timer timer }
	postStatus  struct {
		Text string
		Kb   telegram.Keyboard
	}
	editStatus struct {
		Text string
		Kb   telegram.Keyboard
	}
	say struct {
		Text string
		Kb   telegram.Keyboard
	}
	report     struct{}              // tell the session how the job ended (JobEnded with the job)
	removeFile struct{ Path string } // the result file is no longer needed
	markTold   struct{}              // the seller has been told how the job ended
	stopSelf   struct{}              // nothing is left to do
	logFailure struct {              // a step failed: the operator's log line and counter
		Step messages.Step
		F    messages.Failure
	}
	joinLine  struct{} // wait in the line for a createTask slot
	leaveLine struct{} // no longer wait in the line
)

func (spawnChild) effect()  {}
func (retireChild) effect() {}
func (readTask) effect()    {}
func (armTimer) effect()    {}
func (cancelTimer) effect() {}
func (postStatus) effect()  {}
func (editStatus) effect()  {}
func (say) effect()         {}
func (report) effect()      {}
func (removeFile) effect()  {}
func (markTold) effect()    {}
func (stopSelf) effect()    {}
func (logFailure) effect()  {}
func (joinLine) effect()    {}
func (leaveLine) effect()   {}

// machine is one transition in progress: the state it builds and the effects it collects.
type machine struct {
	s   jobState
	p   Policy
	now time.Time
	out []Effect
}

func (m *machine) do(e ...Effect) { m.out = append(m.out, e...) }

func (m *machine) arm(t timer, d time.Duration) {
	m.s.Armed[t] = true
	m.do(armTimer{t, max(d, 0)})
}

func (m *machine) disarm(t timer) {
	if m.s.Armed[t] {
		m.s.Armed[t] = false
		m.do(cancelTimer{t})
	}
}

// next is the job's whole logic: given its state and an event, it returns the state to keep (the
// actor persists the job in it when it changed) and the effects to carry out after that. It does
// no I/O and reads no clock, so every edge is a table test. Events that do not fit (late,
// repeated or from an attempt no longer current) change nothing.
func next(s jobState, ev any, p Policy, now time.Time) (jobState, []Effect) {
	m := &machine{s: s, p: p, now: now}
	m.step(ev)
	return m.s, m.out
}

func (m *machine) step(ev any) {
	s := &m.s
	if s.Done {
		return
	}
	if t, ok := ev.(tick); ok {
		if !s.Armed[t.Timer] {
			return // stopped after it fired
		}
		s.Armed[t.Timer] = false
	}
	switch ev := ev.(type) {
	case messages.JobStart:
		m.start()
	case messages.Stop:
		m.stop()
	case messages.CancelJob:
		m.cancel()
	case messages.JobSettled:
		m.settled(ev.Job)
	case statusPosted:
		s.Posting = false
		if ev.MessageID != 0 {
			s.Job.StatusMessageID = ev.MessageID
		}
		m.status()
		m.maybeStop()
	case sent:
		s.InFlight--
		m.sent(ev)
		m.maybeStop()
	case expect:
		s.Lo, s.Hi = ev.Lo, ev.Hi
	case lineMoved:
		s.Place, s.Start = ev.Place, ev.Start
		if ev.Down && s.InLine && s.Phase == running && !s.Stopping {
			m.park()
		}
		m.status()
	case messages.SlotGranted:
		if s.InLine {
			s.InLine = false
			if s.Phase == running && !s.Stopping && (s.Job.Stage == messages.StageQueued || s.Job.Stage == messages.StageUploading) {
				m.generate()
				m.status()
			}
		}
	case childStopped:
		s.Live--
		if s.Phase == cancelled && s.Live == 0 {
			m.cancelDone()
		}
		m.maybeStop()
	case tick:
		m.tick(ev.Timer)
	case messages.JobEvent:
		m.report(ev)
	}
}

// start begins or resumes the job from its persisted state.
func (m *machine) start() {
	s, j := &m.s, &m.s.Job
	switch {
	case j.Terminal():
		// Ended before a restart without the seller hearing of it: tell them, then stop.
		s.Phase = telling
		m.tell()
		return
	case j.Failure != nil, j.Stage == messages.StageDelivered:
		// The outcome was decided but the money not settled before a restart: report it again.
		m.decide()
		return
	}
	m.arm(tDeadline, j.Deadline.Sub(m.now))
	switch j.Stage {
	case messages.StageQueued, messages.StageUploading:
		j.GenAttempts = max(j.GenAttempts, 1)
		m.queue()
	case messages.StageSubmitted:
		// Read the task soon: KIE may have finished it while we were down.
		s.TaskAt = j.Reached.Submitted
		if s.TaskAt.IsZero() {
			s.TaskAt = m.now
		}
		m.arm(tAttempt, m.p.KIEAttempt)
		if s.FirstRead > 0 {
			m.arm(tPoll, s.FirstRead)
		} else {
			m.read()
		}
	case messages.StageGenerated, messages.StageDownloaded:
		j.SendAttempts = max(j.SendAttempts, 1)
		m.deliver()
	default:
		m.fail(messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal, Detail: "unknown stage " + string(j.Stage)})
		return
	}
	if j.StatusMessageID == 0 {
		// The status message is the answer to "Generate"; its id comes back as statusPosted.
		s.Posting = true
		text := m.statusText()
		s.Shown, s.LastEdit = text, m.now
		m.do(postStatus{text, keyboard.Status(*j)})
	} else {
		// Resumed: the message still shows what it showed before the restart, and is brought up
		// to date at the status pace, so that a restart's task reads go before its edits.
		s.LastEdit = m.now
	}
	m.status()
}

// queue puts the job in the line for a createTask slot; SlotGranted starts its attempt.
func (m *machine) queue() {
	s, j := &m.s, &m.s.Job
	j.Stage = messages.StageQueued
	if !s.InLine {
		s.InLine = true
		m.do(joinLine{})
	}
}

// park marks a job that waits because KIE is not answering; its seller is told once that their
// credits are safe.
func (m *machine) park() {
	j := &m.s.Job
	j.Parked = true
	if !j.DelayNotified {
		j.DelayNotified = true
		m.sayNow(texts.T(j.Lang, texts.Delayed), nil)
	}
}

func (m *machine) unqueue() {
	if m.s.InLine {
		m.s.InLine = false
		m.do(leaveLine{})
	}
}

// generate starts a generation attempt: upload the photo and create the task.
func (m *machine) generate() {
	s, j := &m.s, &m.s.Job
	j.Stage, j.Parked = messages.StageUploading, false
	if j.GenStartedAt.IsZero() {
		j.GenStartedAt = m.now
	}
	s.GenRun++
	s.GenActive = true
	s.Live++
	s.Reads = 0
	m.arm(tAttempt, m.p.KIEAttempt)
	m.do(spawnChild{messages.StepGenerate})
}

// deliver starts a delivery attempt: download the result if needed and send it.
func (m *machine) deliver() {
	s := &m.s
	s.SendRun++
	s.SendActive = true
	s.Live++
	m.do(spawnChild{messages.StepDeliver})
}

// read asks KIE about the task once.
func (m *machine) read() {
	s := &m.s
	if s.Reading != "" {
		return
	}
	s.Reading = s.Job.TaskID
	s.Reads++
	m.do(readTask{s.Job.TaskID})
}

// pollWait is the wait before the next read of a task. Where the model's results are likely is
// known (Lo..Hi): sparse reads before Lo, one every PollDense inside the window, backing off past
// Hi — a finished result waits about half of PollDense, for a dozen reads or so per job. Unknown:
// start short and back off by half each read, up to PollMax.
func (m *machine) pollWait() time.Duration {
	p, s := m.p, m.s
	if p.Callbacks && p.PollSlow > 0 {
		return p.PollSlow // a lost callback costs at most this much
	}
	if s.Hi <= 0 || p.PollDense <= 0 {
		d := p.PollMin
		for i := 1; i < s.Reads && d < p.PollMax; i++ {
			d = d * 3 / 2
		}
		return min(d, p.PollMax)
	}
	elapsed := m.now.Sub(s.TaskAt)
	dense := min(p.PollDense, p.PollMax)
	switch {
	case elapsed+dense < s.Lo:
		// Too early for most results: look now and then, and be there when the window opens.
		return max(p.PollMin, min(s.Lo-dense-elapsed, 2*p.PollMax))
	case elapsed < s.Hi:
		return max(p.PollMin, dense)
	}
	// Past the tail: back off towards PollMax.
	return max(p.PollMin, min(dense+(elapsed-s.Hi)/4, p.PollMax))
}

func (m *machine) tick(t timer) {
	s, j := &m.s, &m.s.Job
	switch t {
	case tDeadline:
		if s.Phase == running {
			m.fail(messages.Failure{Class: messages.Transient, Reason: messages.ReasonTimeout, Detail: "job deadline passed"})
		}
	case tAttempt:
		if s.Phase == running && generating(*j) {
			m.retireGen()
			m.generationFailed(messages.Failure{Class: messages.Transient, Reason: messages.ReasonTimeout, Detail: "KIE attempt ran out of time"})
		}
	case tRetryGen:
		if s.Phase == running && (j.Stage == messages.StageQueued || j.Stage == messages.StageUploading) {
			m.queue()
			m.status()
		}
	case tRetryDeliver:
		if s.Phase == running && delivering(*j) {
			m.deliver()
		}
	case tPoll:
		if s.Phase == running && j.Stage == messages.StageSubmitted {
			m.read()
		}
	case tStatusDue, tStatusTick:
		m.status()
		m.maybeStop()
	case tResend:
		m.resend()
		m.maybeStop()
	}
}

// report handles what a child or a task read reports.
func (m *machine) report(ev messages.JobEvent) {
	s, j := &m.s, &m.s.Job
	if stale(*s, ev) {
		return
	}
	// An attempt's last report: its child has nothing more to do.
	switch ev := ev.(type) {
	case messages.TaskCreated:
		m.retireGen()
	case messages.StepFailed:
		if ev.Step == messages.StepGenerate {
			m.retireGen()
		} else {
			m.retireSend()
		}
	case messages.Delivered:
		m.retireSend()
	}
	if s.Phase != running && s.Phase != cancelled {
		return // decided already: what an abandoned child says changes nothing
	}
	recordOnly := s.Phase == cancelled || s.Stopping
	switch ev := ev.(type) {
	case messages.PhotoUploaded:
		if j.Stage == messages.StageUploading {
			j.UploadURL = ev.URL
		}
	case messages.TaskCreated:
		if j.Stage != messages.StageUploading {
			return
		}
		j.Stage, j.TaskID = messages.StageSubmitted, ev.TaskID
		j.TasksCreated++
		s.Reads, s.TaskAt = 0, m.now
		if !recordOnly {
			m.arm(tPoll, m.pollWait())
		}
	case messages.TaskRead:
		s.Reading = ""
		if recordOnly || j.Stage != messages.StageSubmitted || ev.TaskID != j.TaskID {
			return
		}
		m.taskRead(ev)
	case messages.TaskCallback:
		// KIE says the task changed: read it now rather than at the next poll. A read already
		// under way answers it; a duplicate callback finds one under way or the job moved on.
		if !recordOnly && j.Stage == messages.StageSubmitted {
			if s.Reading != "" {
				s.Recheck = true
				return
			}
			m.disarm(tPoll)
			m.read()
		}
	case messages.Downloaded:
		if j.Stage == messages.StageGenerated {
			j.Stage, j.FilePath = messages.StageDownloaded, ev.Path
		}
	case messages.Delivered:
		if !delivering(*j) {
			return
		}
		j.Stage, j.MessageID, j.FileID = messages.StageDelivered, ev.MessageID, ev.FileID
		if !recordOnly {
			m.decide()
		}
	case messages.StepFailed:
		if recordOnly {
			return
		}
		m.do(logFailure{ev.Step, ev.Failure})
		if ev.Step == messages.StepGenerate {
			m.generationFailed(ev.Failure)
		} else {
			m.deliveryFailed(ev.Failure)
		}
	}
}

// stale reports a child's event from an attempt that is no longer current, or a read of a task
// the job no longer waits on.
func stale(s jobState, ev messages.JobEvent) bool {
	switch ev := ev.(type) {
	case messages.PhotoUploaded:
		return ev.Run != s.GenRun || !s.GenActive
	case messages.TaskCreated:
		// A task created by an attempt that timed out meanwhile is still a fact; the stage check
		// decides whether the job can use it.
		return ev.Run != s.GenRun
	case messages.TaskRead:
		return ev.TaskID != s.Reading
	case messages.TaskCallback:
		return ev.TaskID != s.Job.TaskID
	case messages.Downloaded:
		return ev.Run != s.SendRun || !s.SendActive
	case messages.Delivered:
		return ev.Run != s.SendRun // delivered is delivered, even from an attempt given up on
	case messages.StepFailed:
		if ev.Step == messages.StepGenerate {
			return ev.Run != s.GenRun || !s.GenActive
		}
		return ev.Run != s.SendRun || !s.SendActive
	}
	return true
}

func (m *machine) retireGen() {
	if m.s.GenActive {
		m.s.GenActive = false
		m.do(retireChild{messages.StepGenerate})
	}
}

func (m *machine) retireSend() {
	if m.s.SendActive {
		m.s.SendActive = false
		m.do(retireChild{messages.StepDeliver})
	}
}

// taskRead acts on what KIE said about the task.
func (m *machine) taskRead(ev messages.TaskRead) {
	j := &m.s.Job
	switch {
	case !ev.Finished && ev.Failure != nil && ev.Failure.Retryable():
		// KIE did not answer about the task: ask again later, without using an attempt.
		m.do(logFailure{messages.StepGenerate, *ev.Failure})
		m.arm(tPoll, max(m.pollWait(), ev.Failure.RetryAfter))
	case !ev.Finished && ev.Failure != nil:
		m.do(logFailure{messages.StepGenerate, *ev.Failure})
		m.generationFailed(*ev.Failure)
	case !ev.Finished && m.s.Recheck:
		// KIE called back while this read was on its way: the task may have ended since.
		m.s.Recheck = false
		m.read()
	case !ev.Finished:
		m.arm(tPoll, m.pollWait())
	case ev.Failure != nil:
		m.do(logFailure{messages.StepGenerate, *ev.Failure})
		m.generationFailed(*ev.Failure)
	case ev.ResultURL == "":
		m.generationFailed(messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream, Detail: "task succeeded without a result URL"})
	default:
		m.disarm(tAttempt)
		m.disarm(tPoll)
		j.Stage, j.ResultURL = messages.StageGenerated, ev.ResultURL
		j.SendAttempts = 1
		m.deliver()
		m.status()
	}
}

func generating(j messages.Job) bool {
	return j.Stage == messages.StageQueued || j.Stage == messages.StageUploading || j.Stage == messages.StageSubmitted
}

func delivering(j messages.Job) bool {
	return j.Stage == messages.StageGenerated || j.Stage == messages.StageDownloaded
}

func (m *machine) generationFailed(f messages.Failure) {
	s, j := &m.s, &m.s.Job
	if !generating(*j) {
		return
	}
	m.disarm(tAttempt)
	m.disarm(tPoll)
	s.Reading = ""
	if f.Reason == messages.ReasonUpstreamDown && j.Stage != messages.StageSubmitted {
		// KIE is not answering, and nothing was created: wait in the line, which lets jobs go
		// again — oldest first — when the breaker does, without using an attempt.
		m.queue()
		m.park()
		m.status()
		return
	}
	throttled := f.Retryable() && f.RetryAfter > 0
	if !f.Retryable() || (!throttled && j.GenAttempts >= m.p.GenAttempts) {
		m.fail(f)
		return
	}
	// The next attempt starts over with a new upload and a new task: this one failed or timed out.
	// It is counted now, with the state, so a restart during the backoff does not buy another.
	after := backoff(m.p, j.GenAttempts, f.RetryAfter)
	if !throttled {
		j.GenAttempts++
	}
	j.Stage, j.TaskID, j.UploadURL = messages.StageQueued, "", ""
	m.arm(tRetryGen, after)
	m.status()
}

func (m *machine) deliveryFailed(f messages.Failure) {
	j := &m.s.Job
	if !delivering(*j) {
		return
	}
	if f.Reason == messages.ReasonUpstreamDown {
		// Telegram (or the result's host) is not answering: wait without using an attempt.
		m.arm(tRetryDeliver, m.p.DelayedRecheck)
		return
	}
	throttled := f.Retryable() && f.RetryAfter > 0
	if !f.Retryable() || (!throttled && j.SendAttempts >= m.p.SendAttempts) {
		m.fail(f)
		return
	}
	after := backoff(m.p, j.SendAttempts, f.RetryAfter)
	if !throttled {
		j.SendAttempts++
	}
	m.arm(tRetryDeliver, after)
}

// fail decides that the job failed with f.
func (m *machine) fail(f messages.Failure) {
	j := &m.s.Job
	j.Failure, j.Parked = &f, false
	m.decide()
}

// decide ends the running part of the job: its outcome (delivered, or the failure on the job) is
// persisted with the state, every child and timer but the status's is stopped, and the session
// is told so that it captures or releases the hold.
func (m *machine) decide() {
	s := &m.s
	m.retireGen()
	m.retireSend()
	m.unqueue()
	s.Reading = ""
	for _, t := range []timer{tDeadline, tAttempt, tRetryGen, tRetryDeliver, tPoll, tStatusTick} {
		m.disarm(t)
	}
	s.Phase = ending
	m.do(report{})
}

// cancel is an operator's cancel: stop the children and wait for them, so that a delivery
// already under way is known before the job reports how it ended.
func (m *machine) cancel() {
	s := &m.s
	if s.Phase != running {
		return // already decided: the session settles what was decided
	}
	s.Phase = cancelled
	m.retireGen()
	m.retireSend()
	m.unqueue()
	for _, t := range []timer{tDeadline, tAttempt, tRetryGen, tRetryDeliver, tPoll, tStatusTick} {
		m.disarm(t)
	}
	if s.Live == 0 {
		m.cancelDone()
	}
}

// cancelDone reports a cancelled job once its children have stopped: delivered if the result
// reached the seller first, cancelled otherwise.
func (m *machine) cancelDone() {
	j := &m.s.Job
	if j.Stage != messages.StageDelivered {
		j.Failure = &messages.Failure{Class: messages.Operator, Reason: messages.ReasonCancelled, Detail: "cancelled by an operator"}
	}
	j.Parked = false
	m.s.Phase = running
	m.decide()
}

// settled: the session captured or released the hold; the job is terminal. Tell the seller and stop.
func (m *machine) settled(j messages.Job) {
	s := &m.s
	if s.Phase == telling || !j.Terminal() {
		return
	}
	if j.StatusMessageID == 0 {
		j.StatusMessageID = s.Job.StatusMessageID
	}
	s.Job = j
	s.Phase = telling
	if s.Stopping {
		s.Untold = true // the next start tells them
		m.maybeStop()
		return
	}
	m.tell()
}

// tell sends what the seller must hear about the outcome: the status message shows it first (a
// failure message held up by Telegram must not hold the status back), then a failure gets its
// explanation with a retry button.
func (m *machine) tell() {
	j := m.s.Job
	if j.FilePath != "" {
		m.do(removeFile{j.FilePath})
	}
	m.status()
	if text, kb, ok := m.outcome(); ok {
		m.sayNow(text, kb)
	}
	m.maybeStop()
}

func (m *machine) sayNow(text string, kb telegram.Keyboard) {
	m.s.InFlight++
	m.do(say{text, kb})
}

// outcome says the failure the seller must hear about, or ok=false when there is none to say.
func (m *machine) outcome() (text string, kb telegram.Keyboard, ok bool) {
	j := m.s.Job
	if j.Outcome != messages.OutcomeFailed {
		return "", nil, false
	}
	f := j.Failure
	price := texts.Credits(j.Lang, j.Price)
	switch {
	case f == nil:
		return texts.T(j.Lang, texts.FailInternal, price), keyboard.Failure(j), true
	case f.Reason == messages.ReasonBlocked:
		return "", nil, false
	case f.Reason == messages.ReasonCancelled:
		return texts.T(j.Lang, texts.FailCancelled, price), nil, true
	}
	return texts.T(j.Lang, texts.FailureKey(*f), price), keyboard.Failure(j), true
}

// sent: what Telegram did with a message about the job. One it could not take because it is
// not answering is tried again later (while the bot runs; at the next start if it stops first).
func (m *machine) sent(ev sent) {
	s := &m.s
	if !ev.Retryable || s.Phase != telling {
		return // not about the outcome (a notice while waiting), or Telegram refused it for good
	}
	if ev.Edit {
		s.EditPending = true
	} else {
		s.SayPending = true
	}
	if s.Stopping {
		s.Untold = true
		return
	}
	if !s.Armed[tResend] {
		m.arm(tResend, m.p.DelayedRecheck)
	}
}

// resend tries again what Telegram did not take about the outcome.
func (m *machine) resend() {
	s := &m.s
	if s.SayPending {
		s.SayPending = false
		if text, kb, ok := m.outcome(); ok {
			m.sayNow(text, kb)
		}
	}
	if s.EditPending {
		s.EditPending = false
		s.Shown, s.LastEdit = "", time.Time{}
		m.status()
	}
}

// stop is a shutdown: children stop, their facts are still recorded, nothing new starts and the
// seller is told nothing more; the job resumes at the next start.
func (m *machine) stop() {
	s := &m.s
	if s.Stopping {
		return
	}
	s.Stopping = true
	m.retireGen()
	m.retireSend()
	m.unqueue()
	for _, t := range []timer{tDeadline, tAttempt, tRetryGen, tRetryDeliver, tPoll, tStatusTick, tResend} {
		m.disarm(t)
	}
	if s.Phase == telling && s.Armed[tStatusDue] {
		// The outcome waits for the edit interval: show it now rather than at the next start.
		m.disarm(tStatusDue)
		s.LastEdit = time.Time{}
		m.status()
	}
	m.maybeStop()
}

// maybeStop stops the job once it has nothing left to do: every child has stopped, nothing it
// sent is still on its way, and either it is shutting down or the seller has been told how it
// ended. A job that told its seller records so; one stopped before that tells them at the next
// start.
func (m *machine) maybeStop() {
	s := &m.s
	if s.Done || s.Live > 0 || s.Posting || s.InFlight > 0 {
		return
	}
	told := s.Phase == telling && !s.Armed[tStatusDue] && !s.Armed[tResend]
	if !told && !s.Stopping {
		return
	}
	if s.Stopping && (s.SayPending || s.EditPending) {
		s.Untold = true
	}
	if told && !s.Untold && s.Job.Terminal() {
		m.do(markTold{})
	}
	for t := range timers {
		m.disarm(timer(t))
	}
	s.Done = true
	m.do(stopSelf{})
}

// status brings the status message in line with the job: at most one edit per StatusInterval,
// only when its text changed, and the elapsed time ticking while the job generates.
func (m *machine) status() {
	s, j := &m.s, m.s.Job
	if s.Phase == running && !s.Stopping && generating(j) && !j.Parked && !s.Armed[tStatusTick] {
		m.arm(tStatusTick, m.p.StatusTick)
	}
	if j.StatusMessageID == 0 || s.Posting || s.Armed[tStatusDue] || (s.Stopping && s.Phase != telling) {
		return
	}
	text := m.statusText()
	if text == s.Shown {
		return
	}
	if wait := s.LastEdit.Add(m.p.StatusInterval).Sub(m.now); wait > 0 {
		m.arm(tStatusDue, wait)
		return
	}
	s.Shown, s.LastEdit = text, m.now
	s.InFlight++
	m.do(editStatus{text, keyboard.Status(j)})
}

// statusText is what the status message should say now.
func (m *machine) statusText() string {
	j, lang := m.s.Job, m.s.Job.Lang
	var line string
	switch {
	case j.Outcome == messages.OutcomeDone:
		line = texts.T(lang, texts.StatusDone)
	case j.Outcome == messages.OutcomeFailed && j.Failure != nil && j.Failure.Reason == messages.ReasonCancelled:
		line = texts.T(lang, texts.StatusCancelled)
	case j.Outcome == messages.OutcomeFailed:
		line = texts.T(lang, texts.StatusFailed)
	case j.Parked:
		line = texts.T(lang, texts.StatusDelayed)
	case j.Stage == messages.StageQueued && m.s.InLine && m.s.Place > 0:
		line = texts.T(lang, texts.StatusInLine, m.s.Place, texts.Wait(lang, m.s.Start))
	case j.Stage == messages.StageQueued:
		line = texts.T(lang, texts.StatusQueued)
	case generating(j):
		since := j.GenStartedAt
		if since.IsZero() {
			since = j.CreatedAt
		}
		line = texts.T(lang, texts.StatusGenerating, texts.Elapsed(m.now.Sub(since)))
	default:
		line = texts.T(lang, texts.StatusSending)
	}
	if j.Terminal() {
		return m.s.Title + "\n" + line
	}
	return texts.T(lang, texts.Accepted, line)
}

// backoff is the wait before attempt n+1: what the other side asked for, or base·2ⁿ⁻¹ up to max.
// The actor adds jitter on top.
func backoff(p Policy, n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	d := p.RetryBase
	for i := 1; i < n && d < p.RetryMax; i++ {
		d *= 2
	}
	return min(d, p.RetryMax)
}
