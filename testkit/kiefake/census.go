package kiefake

import "time"

// Lean makes the server keep what a load driver with thousands of tasks needs: an uploaded
// file is remembered by its path (so a task that names it still starts) but its bytes are
// dropped, and Uploads lists nothing. Call it before the bot starts.
func (s *Server) Lean() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lean = true
}

// Census counts the tasks without copying them, for drivers that create thousands.
type Census struct {
	Created int // tasks created
	Ended   int // of them, ended (success or fail)
	Polled  int // running tasks read at least once
	// ReadSince is how many running tasks were read at or after the time Census was asked
	// about: after a restart, the tasks the new process has read again.
	ReadSince int
}

// Running is how many tasks have not ended.
func (c Census) Running() int { return c.Created - c.Ended }

// Census counts the tasks, and those running that were read at or after since.
func (s *Server) Census(since time.Time) Census {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Census{Created: len(s.order)}
	for _, t := range s.order {
		switch {
		case t.ended():
			c.Ended++
		case t.Polls > 0:
			c.Polled++
			if !t.LastPolled.Before(since) {
				c.ReadSince++
			}
		}
	}
	return c
}
