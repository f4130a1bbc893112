package actors

import (
	"testing"
	"time"

	"neurocards/store"
)

// TestTimingsLearnAndSurviveARestart: until the bot has seen enough of a model, the catalogue's
// expectation sets the window; after, what it saw — and that survives reopening the data file.
func TestTimingsLearnAndSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tm := NewTimings(st)
	if lo, hi := tm.Window("m", 4*time.Minute); lo != 180*time.Second || hi != 384*time.Second {
		t.Errorf("with nothing learned: %v..%v, want the catalogue's 180s..384s", lo, hi)
	}
	for i := range 40 {
		if err := tm.Observe("m", 3*time.Minute+time.Duration(i)*3*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	lo, hi := tm.Window("m", time.Minute)
	if lo < 3*time.Minute || lo > 3*time.Minute+10*time.Second || hi < 5*time.Minute {
		t.Errorf("after 40 results between 3:00 and 4:57: %v..%v", lo, hi)
	}
	st.Close()
	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if lo2, hi2 := NewTimings(st).Window("m", time.Minute); lo2 != lo || hi2 != hi {
		t.Errorf("after a restart: %v..%v, want %v..%v", lo2, hi2, lo, hi)
	}
}
