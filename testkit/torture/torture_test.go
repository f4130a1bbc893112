package torture

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"
)

// TestShortTorture is the short torture run that `make test` carries: the built binary, a few
// sellers, five SIGKILLs and one graceful restart, then one burst of 20 sellers confirming at
// once, killed as KIE answers its last createTask. `make torture` is the full run.
func TestShortTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("the torture test builds and kills the binary; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := Build(ctx, t.TempDir(), raceEnabled)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	work := t.TempDir()
	res, err := Run(ctx, Options{
		Binary:    bin,
		Sellers:   8,
		Kills:     5,
		Terms:     1,
		MinUp:     300 * time.Millisecond,
		MaxUp:     1200 * time.Millisecond,
		Aim:       true,
		Bursts:    1,
		BurstSize: 50,
		// How many task ids are still on their way at the kill depends on how busy the machine
		// is: the run reports it, and `make torture` holds it to at most 2.
		MaxRecreated: -1,
		JobTimeout:   time.Minute,
		Timeout:      2 * time.Minute,
		WorkDir:      work,
		Out:          &progress,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var report bytes.Buffer
	res.Print(&report)
	t.Logf("%s%s", progress.String(), report.String())
	if p := res.Problems(); len(p) > 0 {
		logs, _ := os.ReadFile(res.Logs)
		t.Errorf("torture found problems: %v\n\ncheck:\n%s\nbot logs (last 20000 bytes):\n%s", p, res.CheckOutput, tail(logs, 20000))
	}
	if res.Kills != 5 || res.Terms != 1 || res.BurstKills != 1 || len(res.Bursts) != 1 {
		t.Errorf("kills %d, graceful restarts %d, burst kills %d; want 5, 1 and 1", res.Kills, res.Terms, res.BurstKills)
	}
	if res.Jobs < 8 {
		t.Errorf("only %d jobs for 8 sellers", res.Jobs)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
