package admin

import (
	"cmp"
	"net/http"
	"slices"
	"sort"
	"time"

	"neurocards/messages"
	"neurocards/metrics"
	"neurocards/store"
	"neurocards/texts"
)

type overviewPage struct {
	NotReady  string // why /readyz says not ready; "" when ready
	LastPoll  time.Time
	PollStale bool
	Breakers  []breaker
	InFlight  store.InFlight
	Stages    []stageCount
	DayStart  time.Time
	Today     store.Stats
	Failures  []failureCount
	Gen       genStats
	Recent    []messages.Job
	Truncated bool // more jobs in the last 24 h than one page load reads
}

type breaker struct{ Upstream, State string }

type stageCount struct {
	Stage messages.Stage
	N     int
}

type failureCount struct {
	Class  messages.Class
	Reason messages.Reason
	N      int
}

// overview is `/`: what the bot is doing now and how today went.
func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	p := overviewPage{NotReady: s.notReady(time.Now()), DayStart: texts.DayStart(now)}
	h := s.cfg.Health
	if h.LastPoll != nil {
		p.LastPoll = h.LastPoll()
		p.PollStale = p.LastPoll.IsZero() || time.Since(p.LastPoll) > h.PollStale
	}
	if h.Breakers != nil {
		for up, state := range h.Breakers() {
			p.Breakers = append(p.Breakers, breaker{up, state})
		}
		sort.Slice(p.Breakers, func(i, j int) bool { return p.Breakers[i].Upstream < p.Breakers[j].Upstream })
	}
	var err error
	if p.InFlight, err = s.cfg.Store.InFlight(); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	for _, st := range messages.Stages[:len(messages.Stages)-1] {
		p.Stages = append(p.Stages, stageCount{st, p.InFlight.ByStage[st]})
	}
	if p.Today, err = s.cfg.Store.Stats(p.DayStart); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	failures := map[failureCount]int{}
	var samples []genSample
	p.Truncated, err = s.cfg.Store.EachJobSince(now.Add(-24*time.Hour), 0, func(j messages.Job) {
		if d, ok := metrics.GenerationTime(j); ok && j.Outcome == messages.OutcomeDone {
			samples = append(samples, genSample{at: j.Reached.Generated, took: d})
		}
		if j.Outcome == messages.OutcomeFailed && j.Failure != nil && !j.CreatedAt.Before(p.DayStart) {
			failures[failureCount{Class: j.Failure.Class, Reason: j.Failure.Reason}]++
		}
	})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	for f, n := range failures {
		f.N = n
		p.Failures = append(p.Failures, f)
	}
	slices.SortFunc(p.Failures, func(a, b failureCount) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return cmp.Compare(a.Reason, b.Reason)
	})
	p.Failures = p.Failures[:min(len(p.Failures), 10)]
	p.Gen = generationStats(samples, now)
	if p.Recent, _, err = s.cfg.Store.FindJobs(store.JobFilter{}, 0, 10); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "overview", "Overview", p)
}

// storeFailed answers a query the store could not serve.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.Error("admin: reading the store failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusInternalServerError, "Reading the data file failed; the log has the details.")
}
