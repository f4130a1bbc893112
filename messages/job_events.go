package messages

// TaskRead is what one read of a KIE task (recordInfo) found. Finished: KIE ended the task, with
// ResultURL on success or Failure (classified) on failure. Not finished: the task is still
// running, or, with Failure, KIE could not be read.
type TaskRead struct {
	TaskID    string
	Finished  bool
	ResultURL string
	Failure   *Failure
}

func (TaskRead) jobEvent() {}

// JobEnded tells a seller's session how their job ended — delivered (Stage delivered) or failed
// (Failure set) — so the session, the only writer of the seller's money, captures or releases its
// hold. The job persisted this outcome before reporting it, so a restart reports it again.
type JobEnded struct{ Job Job }

// JobSettled answers JobEnded: the job as stored, terminal, its hold captured or released. The
// job then tells the seller and stops.
type JobSettled struct{ Job Job }

// CancelJob asks a job to stop its work for an operator's cancel: it stops its children, waits for
// them, and reports JobEnded — delivered, if the result reached the seller first, else cancelled.
type CancelJob struct{}

// TaskCallback is KIE saying, on the callback URL a job's task was created with, that the task
// changed. It is only a trigger: the job reads the task at once and trusts what the read says.
// The router finds the job's seller; the session hands it to the job.
type TaskCallback struct {
	JobID  uint64
	TaskID string
}

func (TaskCallback) jobEvent() {}

// SlotGranted tells a job waiting in the line that its turn to create a KIE task has come.
type SlotGranted struct{}

func (SlotGranted) jobEvent() {}
