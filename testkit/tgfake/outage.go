package tgfake

// SetOutage makes every Bot API call but getUpdates answer r — a 502 page from the nginx in front
// of Telegram, say — until it is called again with nil. The sellers' updates still arrive.
func (s *Server) SetOutage(r *Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = r
}
