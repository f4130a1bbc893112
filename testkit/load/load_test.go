package load

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"neurocards/testkit/torture"
)

// TestShortLoad is the short load run that `make test` carries: the built binary (with the race
// detector under -race, so its memory is not judged), a few dozen sellers whose KIE tasks take
// seconds, a SIGKILL and a restart while all of them wait. Every seller gets their video, every
// task is read again after the restart, and `neurocards check` passes. `make load` is the full run.
func TestShortLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("the load test builds and kills the binary; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin, err := torture.Build(ctx, t.TempDir(), raceEnabled)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	res, err := Run(ctx, Options{
		Binary:  bin,
		Sellers: 40,
		JobMin:  12 * time.Second,
		JobMax:  15 * time.Second,
		Settle:  time.Second,
		Timeout: 3 * time.Minute,
		WorkDir: t.TempDir(),
		Out:     &progress,
		Env:     []string{"GORACE=atexit_sleep_ms=0"},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var report bytes.Buffer
	res.Print(&report)
	t.Logf("%s%s", progress.String(), report.String())
	if p := res.Problems(); len(p) > 0 {
		logs, _ := os.ReadFile(res.Logs)
		t.Errorf("the load run found problems: %v\nbot logs (last 20000 bytes):\n%s", p, tail(logs, 20000))
	}
	if res.RereadTasks != 40 || res.Reread <= 0 {
		t.Errorf("after the restart %d tasks were read again, in %v; want all 40", res.RereadTasks, res.Reread)
	}
	if res.RSSWaiting <= 0 || res.Peak < res.RSSWaiting {
		t.Errorf("resident set %d with all waiting, peak %d: not measured", res.RSSWaiting, res.Peak)
	}
	if res.Waits.N != 40 || res.Waits.P50 < 12*time.Second {
		t.Errorf("confirm → video: %v; want 40 videos, none before KIE finished", res.Waits)
	}
	if !strings.Contains(res.CheckOutput, "every invariant holds") {
		t.Errorf("neurocards check:\n%s", res.CheckOutput)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
