package public

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"neurocards/kie"
	"neurocards/messages"
)

// CallbackURL is the URL createTask gives KIE for a job's task: PublicURL, the callback route,
// the job id and the job's secret. "" when the listener has no public URL.
func (s *Server) CallbackURL(jobID uint64) string {
	if s.callbackBase == "" {
		return ""
	}
	return s.callbackBase + strconv.FormatUint(jobID, 10) + "/" + jobSecret(s.cfg.Key, jobID)
}

// callback takes KIE's POST to a job's callback URL; rest is the path after the route's prefix,
// "<job id>/<secret>". KIE gets its answer at once; the job then reads the task itself, since
// neither the URL nor the optional signature vouches for the body.
func (s *Server) callback(w http.ResponseWriter, r *http.Request, rest string) {
	if !s.limit.Allow() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	idText, secret, _ := strings.Cut(rest, "/")
	jobID, err := strconv.ParseUint(idText, 10, 64)
	if err != nil || jobID == 0 || !sameSecret(secret, jobSecret(s.cfg.Key, jobID)) {
		s.refused("kie callback", "no job with that secret")
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.refused("kie callback", "body too large", "job_id", jobID)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	rec, err := kie.ParseCallback(body)
	if err != nil {
		s.refused("kie callback", "not a market callback", "job_id", jobID, "err", err)
		http.Error(w, "not a KIE callback", http.StatusBadRequest)
		return
	}
	if s.cfg.KIEWebhookKey != "" {
		err := kie.VerifySignature([]byte(s.cfg.KIEWebhookKey), rec.TaskID, r.Header.Get(kie.HeaderTimestamp),
			r.Header.Get(kie.HeaderSignature), time.Now(), s.cfg.MaxSignatureAge)
		if err != nil {
			s.refused("kie callback", err.Error(), "job_id", jobID)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
	}
	job, ok, err := s.cfg.Store.Job(jobID)
	switch {
	case err != nil:
		s.log.Error("public: kie callback: reading the job failed", "job_id", jobID, "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	case !ok:
		s.refused("kie callback", "unknown job", "job_id", jobID)
		http.NotFound(w, r)
		return
	case job.Terminal() || job.TaskID != rec.TaskID:
		// A repeat after the job ended, or a task of an earlier attempt: nothing to do, and
		// nothing for KIE to send again.
		s.log.Debug("public: kie callback with nothing to do", "job_id", jobID, "task_id", rec.TaskID, "job_task", job.TaskID, "ended", job.Terminal())
		w.WriteHeader(http.StatusOK)
		return
	}
	if !s.cfg.Trigger(messages.TaskCallback{JobID: jobID, TaskID: rec.TaskID}) {
		http.Error(w, "starting or stopping; try again", http.StatusServiceUnavailable)
		return
	}
	s.log.Debug("public: kie callback", "job_id", jobID, "task_id", rec.TaskID, "state", rec.State)
	w.WriteHeader(http.StatusOK)
}
