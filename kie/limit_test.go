package kie

import (
	"context"
	"fmt"
	"testing"
	"time"

	"neurocards/messages"
)

// A client that calls createTask as fast as the limiter allows never gets more than N calls into
// any 10 s window (closed at both ends), and does get N into some window (the limit is not needlessly tight). Time is
// simulated through the limiter's reservations, so the test takes no wall time.
func TestCreateLimiterBoundsEveryWindow(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 7, 20, 40, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			lim := NewCreateLimiter(n)
			start := time.Unix(1_700_000_000, 0)
			now := start
			var at []time.Time
			for len(at) < 10*n+10 {
				r := lim.ReserveN(now, 1)
				if !r.OK() {
					t.Fatal("reservation refused")
				}
				now = now.Add(r.DelayFrom(now))
				at = append(at, now)
			}
			const window = 10 * time.Second
			most := 0
			for i := range at {
				j := i
				for j < len(at) && at[j].Sub(at[i]) <= window {
					j++
				}
				most = max(most, j-i)
			}
			if most > n {
				t.Fatalf("%d calls in one 10 s window, limit %d", most, n)
			}
			if most < n {
				t.Fatalf("at most %d calls in a 10 s window, limit %d: needlessly tight", most, n)
			}
		})
	}
}

func TestCreateLimiterDefault(t *testing.T) {
	lim := NewCreateLimiter(0)
	if lim.Burst() != 5 || lim.Limit() != 1.5 {
		t.Fatalf("burst %d, rate %v; want 5 and 1.5/s", lim.Burst(), lim.Limit())
	}
}

// Past the burst, createTask waits for a token; a ctx that cannot wait that long fails at once
// and KIE never sees the call.
func TestCreateTaskWaitsForTheLimiter(t *testing.T) {
	fake := newFake(t)
	c := fakeClient(t, fake, func(cfg *Config) { cfg.CreatePer10s = 4 }) // burst 1, then one per 3.33 s
	ctx := ctxTimeout(t, 5*time.Second)
	if _, err := c.CreateTask(ctx, "kling-2.6/image-to-video", map[string]any{"prompt": "x", "image_urls": []string{"u"}}, ""); err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.CreateTask(short, "kling-2.6/image-to-video", map[string]any{"prompt": "x", "image_urls": []string{"u"}}, "")
	if f := Classify(err); f.Class != messages.Transient || f.Code != "rate limit" {
		t.Fatalf("%v → %+v", err, f)
	}
	if waited := time.Since(began); waited > 150*time.Millisecond {
		t.Fatalf("waited %v for a token it could never get", waited)
	}
	if fake.CreateCalls() != 1 {
		t.Fatalf("KIE saw %d createTask calls, want 1", fake.CreateCalls())
	}
	if c.BreakerState() != "closed" {
		t.Fatal("a local wait must not touch the breaker")
	}
}
