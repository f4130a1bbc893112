package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"neurocards/messages"
	"neurocards/store"
)

const (
	sellersPerPage = 50
	ledgerPerPage  = 20
	jobsPerSeller  = 10
)

type sellersPage struct {
	Query   string
	Sellers []store.User
	Next    int64 // the after of the next page; 0: none
}

// sellers is /sellers: a search by id (a number) or by first name.
func (s *Server) sellers(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := sellersPage{Query: q}
	if id, err := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64); err == nil {
		u, ok, err := s.cfg.Store.User(id)
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		if ok {
			p.Sellers = []store.User{u}
		}
		s.render(w, r, http.StatusOK, "sellers", "Sellers", p)
		return
	}
	after, ok := cursor(w, r, s, "after")
	if !ok {
		return
	}
	var err error
	p.Sellers, p.Next, err = s.cfg.Store.FindUsers(q, int64(after), sellersPerPage)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "sellers", "Sellers", p)
}

type sellerPage struct {
	User       store.User
	Ledger     []store.Entry
	LedgerNext uint64
	LedgerAt   uint64 // the page shown; 0: the newest
	Jobs       []messages.Job
	JobsNext   uint64
	JobsAt     uint64
	// One-time keys of the action forms: a form submitted twice acts once.
	GrantKey, RefundKey, CancelKey string
}

// seller is /sellers/{id}: the account, its ledger and jobs (paged), and the actions on it.
func (s *Server) seller(w http.ResponseWriter, r *http.Request) {
	u, ok := s.sellerOf(w, r)
	if !ok {
		return
	}
	p := sellerPage{User: u, GrantKey: randomHex(16), RefundKey: randomHex(16), CancelKey: randomHex(16)}
	if p.LedgerAt, ok = cursor(w, r, s, "ledger"); !ok {
		return
	}
	if p.JobsAt, ok = cursor(w, r, s, "jobs"); !ok {
		return
	}
	var err error
	if p.Ledger, p.LedgerNext, err = s.cfg.Store.LedgerPage(u.ID, p.LedgerAt, ledgerPerPage); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if p.Jobs, p.JobsNext, err = s.cfg.Store.FindJobs(store.JobFilter{UserID: u.ID}, p.JobsAt, jobsPerSeller); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "seller", fmt.Sprintf("Seller %d", u.ID), p)
}

// sellerOf reads the seller the path names, or answers why there is none.
func (s *Server) sellerOf(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a seller id: a seller id is their Telegram user id, a number.", r.PathValue("id")))
		return store.User{}, false
	}
	u, ok, err := s.cfg.Store.User(id)
	if err != nil {
		s.storeFailed(w, r, err)
		return u, false
	}
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no seller %d: nobody with that Telegram id has written to the bot.", id))
		return u, false
	}
	return u, true
}

// cursor reads a paging parameter (absent: 0), or answers that it is not one.
func cursor(w http.ResponseWriter, r *http.Request, s *Server, name string) (uint64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("The page parameter %s=%q is not a number.", name, v))
		return 0, false
	}
	return n, true
}
