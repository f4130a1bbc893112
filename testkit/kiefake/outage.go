package kiefake

import (
	"net"
	"net/http"
)

// SetOutage makes KIE answer every API, upload and result-file request with r (an HTML 503 page
// from its proxy, say) until it is called again with nil.
func (s *Server) SetOutage(r *Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = r
}

// outageReply answers a request during an outage; it reports whether it did.
func (s *Server) outageReply(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	rep := s.outage
	s.mu.Unlock()
	if rep == nil {
		return false
	}
	s.mu.Lock()
	s.outageHits++
	s.mu.Unlock()
	s.reply(w, r, *rep)
	return true
}

// OutageHits counts the requests answered by an outage so far.
func (s *Server) OutageHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outageHits
}

// SetRefusing closes KIE's port, so that connections are refused, or opens it again on the same
// address. Tasks, uploads and files are kept.
func (s *Server) SetRefusing(refuse bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if refuse == s.refusing {
		return nil
	}
	if refuse {
		s.refusing = true
		s.srv.CloseClientConnections()
		return s.srv.Listener.Close()
	}
	ln, err := net.Listen("tcp", s.srv.Listener.Addr().String())
	if err != nil {
		return err
	}
	s.refusing = false
	s.srv.Listener = ln
	go s.srv.Config.Serve(ln)
	return nil
}
