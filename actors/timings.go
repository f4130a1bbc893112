package actors

import (
	"slices"
	"sync"
	"time"

	"neurocards/store"
)

// Timings is what the bot has learned of each model's generation time, from its own delivered
// jobs: where in a task's life its result is likely, so a job spends its reads there. It is read
// from the store the first time a model is asked about, and kept in step with it.
type Timings struct {
	store *store.Store
	mu    sync.Mutex
	seen  map[string][]time.Duration // oldest first, the latest store.GenTimesKept
}

// NewTimings learns from and records to st.
func NewTimings(st *store.Store) *Timings {
	return &Timings{store: st, seen: map[string][]time.Duration{}}
}

// minSamples is how many results of a model the bot needs before it trusts what it learned over
// the catalogue's expectation.
const minSamples = 10

// Window is where the model's results are likely: from lo (few finish sooner) to hi (few finish
// later). Until the bot has seen enough of the model it goes by expected, the catalogue's
// typical time; hi is never below what the catalogue allows, since early results are the quick
// ones.
func (t *Timings) Window(model string, expected time.Duration) (lo, hi time.Duration) {
	lo, hi = expected*3/4, expected*8/5
	if t == nil {
		return lo, hi
	}
	samples := t.samples(model)
	if len(samples) < minSamples {
		return lo, hi
	}
	sorted := slices.Sorted(slices.Values(samples))
	at := func(q float64) time.Duration { return sorted[int(q*float64(len(sorted)-1))] }
	return at(0.05), max(hi, at(0.99)*6/5)
}

// Observe records one delivered result of the model.
func (t *Timings) Observe(model string, d time.Duration) error {
	if t == nil || d <= 0 {
		return nil
	}
	t.samples(model) // loaded from the store once
	t.mu.Lock()
	// A new slice each time: readers keep the one they were given, and two sessions recording
	// the same model at once both land.
	samples := append(slices.Clone(t.seen[model]), d)
	if n := len(samples); n > store.GenTimesKept {
		samples = samples[n-store.GenTimesKept:]
	}
	t.seen[model] = samples
	t.mu.Unlock()
	return t.store.AddGenerationTime(model, d)
}

func (t *Timings) samples(model string) []time.Duration {
	t.mu.Lock()
	s, ok := t.seen[model]
	t.mu.Unlock()
	if ok {
		return s
	}
	loaded, err := t.store.GenerationTimes(model)
	if err != nil {
		loaded = nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.seen[model]; ok {
		return s
	}
	t.seen[model] = loaded
	return loaded
}
