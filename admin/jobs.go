package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"neurocards/messages"
	"neurocards/store"
)

const jobsPerPage = 50

var outcomes = []string{string(messages.OutcomeDone), string(messages.OutcomeFailed), store.OutcomeInFlight}

type jobsPage struct {
	Filter   store.JobFilter
	Stages   []messages.Stage
	Outcomes []string
	Kinds    []string
	Jobs     []messages.Job
	// NextURL is the link to the next page, with the same filter; "" when there is none.
	NextURL string
}

// jobs is /jobs: every job, newest first, filtered by stage, outcome and kind.
func (s *Server) jobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.JobFilter{Stage: messages.Stage(q.Get("stage")), Outcome: q.Get("outcome"), Kind: q.Get("kind")}
	switch {
	case f.Stage != "" && !slices.Contains(messages.Stages, f.Stage):
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("There is no stage %q; the stages are %s.", f.Stage, joinStages()))
		return
	case f.Outcome != "" && !slices.Contains(outcomes, f.Outcome):
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("There is no outcome %q; the outcomes are %s.", f.Outcome, strings.Join(outcomes, ", ")))
		return
	}
	before, ok := cursor(w, r, s, "before")
	if !ok {
		return
	}
	p := jobsPage{Filter: f, Stages: messages.Stages, Outcomes: outcomes, Kinds: s.cfg.Kinds}
	jobs, next, err := s.cfg.Store.FindJobs(f, before, jobsPerPage)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	p.Jobs = jobs
	if next != 0 {
		q.Set("before", strconv.FormatUint(next, 10))
		p.NextURL = "/jobs?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "jobs", "Jobs", p)
}

func joinStages() string {
	names := make([]string, len(messages.Stages))
	for i, st := range messages.Stages {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

type jobPage struct {
	Job    messages.Job
	Stages []stageTime
	Ledger []store.Entry
	Seller store.User
}

// stageTime is one stage a job reached, when, and how long after the one before.
type stageTime struct {
	Stage messages.Stage
	At    time.Time
	After time.Duration
	Now   bool // the stage the job is at
}

// job is /jobs/{id}: one job's stages with their times, attempts, KIE task, failure, cost and
// the ledger rows it produced.
func (s *Server) job(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(strings.TrimPrefix(r.PathValue("id"), "#"), 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a job id: job ids are numbers.", r.PathValue("id")))
		return
	}
	j, ok, err := s.cfg.Store.Job(id)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no job %d.", id))
		return
	}
	p := jobPage{Job: j}
	if p.Ledger, err = s.cfg.Store.JobLedger(id); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if p.Seller, _, err = s.cfg.Store.User(j.UserID); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	p.Stages = stageTimes(j)
	s.render(w, r, http.StatusOK, "job", fmt.Sprintf("Job %d", id), p)
}

// stageTimes lists the stages the job reached, in the order it reached them.
func stageTimes(j messages.Job) []stageTime {
	var out []stageTime
	for _, st := range messages.Stages {
		if at := j.Reached.At(st); !at.IsZero() {
			out = append(out, stageTime{Stage: st, At: at, Now: st == j.Stage})
		}
	}
	slices.SortStableFunc(out, func(a, b stageTime) int { return a.At.Compare(b.At) })
	for i := 1; i < len(out); i++ {
		out[i].After = out[i].At.Sub(out[i-1].At)
	}
	return out
}
