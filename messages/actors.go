package messages

import "github.com/go-telegram/bot/models"

// Update is one Telegram update on its way to the seller's session. Done is called exactly once,
// when the update's effect is persisted (or the update is known to need none), so that the poller
// may confirm it to Telegram.
type Update struct {
	Update *models.Update
	Done   func()
}

// Crashed reports that an actor's Receive panicked. The recover middleware sends it to the parent
// instead of letting hollywood restart the actor.
type Crashed struct {
	ID     string // the crashed actor's id
	Reason string
	Stack  string
}

// Stop asks an actor to stop its children, wait until they have, and then stop itself. It is how
// the tree shuts down and how an owner retires an actor. Only leaves are ever poisoned directly:
// hollywood v1.0.5 loses a second poison pill, and a parent whose cleanup waits on a lost pill
// hangs forever.
type Stop struct{}

// ChildStopped tells an owner that its child has stopped for good (sent from the child's Stopped).
type ChildStopped struct{ ID string }

// SessionIdle tells the router a session has nothing in flight. Handled counts the updates it
// has handled, so the router retires it only if it sent nothing since.
type SessionIdle struct{ Handled int }

// Step names a job's child: generation (KIE) or delivery (Telegram).
type Step string

const (
	StepGenerate Step = "generate"
	StepDeliver  Step = "deliver"
)

// JobEvent is a fact the job state machine reacts to.
type JobEvent interface{ jobEvent() }

// JobStart starts or resumes a job from its persisted stage.
type JobStart struct{}

// PhotoUploaded: the seller's photo is on KIE's file host.
type PhotoUploaded struct {
	Run int
	URL string
}

// TaskCreated: KIE accepted createTask. Persisted before anything else so a restart polls this task.
type TaskCreated struct {
	Run    int
	TaskID string
}

// Generated: the KIE task succeeded with a result file at ResultURL.
type Generated struct {
	Run       int
	ResultURL string
}

// Downloaded: the result file is on disk.
type Downloaded struct {
	Run  int
	Path string
}

// Delivered: Telegram accepted the result message.
type Delivered struct {
	Run       int
	MessageID int
	FileID    string
}

// StepFailed: one attempt of a child failed; the job decides whether to retry it.
type StepFailed struct {
	Run     int
	Step    Step
	Failure Failure
}

// RetryDue: the backoff before restarting a child has passed. The attempt it starts was counted
// when the failure scheduled it (unless the wait was an open breaker or a rate limit).
type RetryDue struct {
	Step Step
}

// DeadlinePassed: the whole-job deadline has come.
type DeadlinePassed struct{}

func (JobStart) jobEvent()       {}
func (PhotoUploaded) jobEvent()  {}
func (TaskCreated) jobEvent()    {}
func (Generated) jobEvent()      {}
func (Downloaded) jobEvent()     {}
func (Delivered) jobEvent()      {}
func (StepFailed) jobEvent()     {}
func (RetryDue) jobEvent()       {}
func (DeadlinePassed) jobEvent() {}

// SellerBlocked tells a seller's session that Telegram answered 403 for their chat: they blocked
// the bot. The session records it; nothing more is sent until they write again.
type SellerBlocked struct{ UserID int64 }
