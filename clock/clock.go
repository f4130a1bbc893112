// Package clock is where actors take time from. Production uses the real clock; tests use
// testkit.FakeClock and advance it, so nothing in an actor test waits in real time.
package clock

import "time"

// Clock tells the time and runs a function after a delay.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed; the returned Timer stops it.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not happened; it reports whether it did prevent it.
	Stop() bool
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
