package messages

import "time"

// Stage is how far a job has got. Stages are persisted and only move forward, except that a failed
// generation attempt sends the job back to Queued for a fresh KIE task.
type Stage string

const (
	StageQueued     Stage = "queued"     // credits held, nothing sent to KIE yet
	StageUploading  Stage = "uploading"  // the photo is being moved from Telegram to KIE's file host
	StageSubmitted  Stage = "submitted"  // KIE has a task (TaskID); we poll it
	StageGenerated  Stage = "generated"  // KIE finished (ResultURL); the file is not ours yet
	StageDownloaded Stage = "downloaded" // the result is on disk (FilePath)
	StageDelivered  Stage = "delivered"  // the seller has it (MessageID, FileID)
)

// Stages are the stages in the order a job goes through them.
var Stages = []Stage{StageQueued, StageUploading, StageSubmitted, StageGenerated, StageDownloaded, StageDelivered}

// Outcome is how a job ended. The empty outcome means the job is still in flight.
type Outcome string

const (
	OutcomeNone   Outcome = ""
	OutcomeDone   Outcome = "done"   // delivered, credits captured
	OutcomeFailed Outcome = "failed" // not delivered, credits released
)

// Output says how a result is delivered: as a video, or as an image.
type Output string

const (
	OutputVideo Output = "video"
	OutputImage Output = "image"
)

// Job is the persisted record of one generation the seller paid for.
type Job struct {
	ID     uint64 `json:"id"`
	UserID int64  `json:"user_id"`
	ChatID int64  `json:"chat_id"`
	Lang   string `json:"lang"`

	Kind      string `json:"kind"`
	Model     string `json:"model"`
	Output    Output `json:"output"`
	Price     int64  `json:"price"`
	Photo     Photo  `json:"photo"`
	Product   string `json:"product"`
	RetryOf   uint64 `json:"retry_of,omitempty"`   // the failed job this one repeats
	RetriedBy uint64 `json:"retried_by,omitempty"` // the job the retry button started, so it starts one

	Stage     Stage  `json:"stage"`
	UploadURL string `json:"upload_url,omitempty"`
	TaskID    string `json:"task_id,omitempty"`
	ResultURL string `json:"result_url,omitempty"`
	FilePath  string `json:"file_path,omitempty"`
	MessageID int    `json:"message_id,omitempty"`
	FileID    string `json:"file_id,omitempty"`

	GenAttempts  int `json:"gen_attempts"`
	SendAttempts int `json:"send_attempts"`
	// TasksCreated counts createTask successes for this job, so a restart that would pay KIE twice
	// for the same stage shows up in `neurocards check` and the torture test.
	TasksCreated int `json:"tasks_created"`

	StatusMessageID int  `json:"status_message_id,omitempty"`
	DelayNotified   bool `json:"delay_notified,omitempty"` // the seller was told KIE is down, once
	Parked          bool `json:"parked,omitempty"`         // waiting in queued for the KIE breaker to close

	// Outcome is set only by the seller's session, in the transaction that captures or releases
	// the hold. Failure is set by the job when it decides to fail — persisted before it reports
	// JobEnded, so a restart reports the same — and kept once the job is terminal.
	Outcome Outcome  `json:"outcome,omitempty"`
	Failure *Failure `json:"failure,omitempty"`

	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Deadline     time.Time `json:"deadline"`
	GenStartedAt time.Time `json:"gen_started_at,omitempty"`
	FinishedAt   time.Time `json:"finished_at,omitempty"`
	// Reached is when the job last reached each stage; the store sets it whenever the stored
	// stage changes.
	Reached StageTimes `json:"reached,omitzero"`
}

// StageTimes is when a job last reached each stage (zero: not reached, or before stage times
// were recorded). A plain struct, so a Job stays comparable.
type StageTimes struct {
	Queued     time.Time `json:"queued,omitzero"`
	Uploading  time.Time `json:"uploading,omitzero"`
	Submitted  time.Time `json:"submitted,omitzero"`
	Generated  time.Time `json:"generated,omitzero"`
	Downloaded time.Time `json:"downloaded,omitzero"`
	Delivered  time.Time `json:"delivered,omitzero"`
}

// At is when stage s was last reached.
func (t StageTimes) At(s Stage) time.Time {
	if p := t.field(s); p != nil {
		return *p
	}
	return time.Time{}
}

// Set records that stage s was reached at at.
func (t *StageTimes) Set(s Stage, at time.Time) {
	if p := t.field(s); p != nil {
		*p = at
	}
}

func (t *StageTimes) field(s Stage) *time.Time {
	switch s {
	case StageQueued:
		return &t.Queued
	case StageUploading:
		return &t.Uploading
	case StageSubmitted:
		return &t.Submitted
	case StageGenerated:
		return &t.Generated
	case StageDownloaded:
		return &t.Downloaded
	case StageDelivered:
		return &t.Delivered
	}
	return nil
}

// Terminal reports whether the job has ended, one way or the other.
func (j Job) Terminal() bool { return j.Outcome != OutcomeNone }

// Photo is the seller's product photo as Telegram knows it.
type Photo struct {
	FileID   string `json:"file_id"`
	UniqueID string `json:"unique_id,omitempty"`
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Mime     string `json:"mime,omitempty"`
}
