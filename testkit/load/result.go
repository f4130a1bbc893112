package load

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Result is what a load run measured.
type Result struct {
	Sellers        int
	JobMin, JobMax time.Duration
	Targets        Targets

	Ramp           time.Duration // from the first /start until all N waited on KIE
	RSSWaiting     int64         // bytes resident with all N waiting, after the settling
	Goroutines     int           // the bot's goroutines then
	HeapProfile    string        // the bot's heap profile then, if it could be fetched
	RestartProfile string        // a CPU profile of the restarted bot's first seconds, if it could be fetched
	Peak           int64         // the highest resident set of any of the bot's processes
	PeakRamp       int64         // the first process's peak, up to the kill: the ramp
	PeakRestart    int64         // the second process's peak when every task had been read again
	Reread         time.Duration // from the restart until every running task was read again
	RereadTasks    int           // how many tasks were running then
	// RestartGoroutines is the most goroutines the restarted bot was seen running meanwhile.
	RestartGoroutines int
	Stop              time.Duration // the final SIGTERM's

	Confirmed, Delivered int
	Waits                Percentiles    // confirm → video, of the videos delivered
	Failures             map[string]int // what the sellers whose job failed were told
	Stuck                []string       // a few sellers who never finished
	Tasks                int            // KIE tasks created
	Sends                int            // Bot API calls the bot made

	CheckOutput string
	CheckExit   int
	Leaks       []string // secrets found in the bot's logs
	DataRaces   int      // the race detector's reports in the bot's logs (a race-built bot)
	RunError    string

	WorkDir, Logs, DataDir string
}

// Percentiles summarise a set of durations.
type Percentiles struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return Percentiles{N: len(ds), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ds[len(ds)-1]}
}

func (p Percentiles) String() string {
	s := func(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
	return fmt.Sprintf("p50 %s, p95 %s, p99 %s, max %s (%d videos)", s(p.P50), s(p.P95), s(p.P99), s(p.Max), p.N)
}

// Problems lists what the bot fell short of, and anything that made the run incomplete.
func (res *Result) Problems() []string {
	var p []string
	if res.RunError != "" {
		p = append(p, "the run did not complete: "+res.RunError)
	}
	if res.Delivered < res.Sellers {
		p = append(p, fmt.Sprintf("%d of %d sellers got their video", res.Delivered, res.Sellers))
	}
	if res.CheckExit != 0 {
		p = append(p, fmt.Sprintf("neurocards check exited %d", res.CheckExit))
	}
	for _, l := range res.Leaks {
		p = append(p, l+" in the bot's logs")
	}
	if res.DataRaces > 0 {
		p = append(p, fmt.Sprintf("%d data races reported by the bot", res.DataRaces))
	}
	t := res.Targets
	if t.RSS > 0 && res.RSSWaiting > t.RSS {
		p = append(p, fmt.Sprintf("RSS with all waiting %s, over the target %s", mb(res.RSSWaiting), mb(t.RSS)))
	}
	if t.Peak > 0 && res.Peak > t.Peak {
		p = append(p, fmt.Sprintf("peak RSS %s, over the target %s", mb(res.Peak), mb(t.Peak)))
	}
	if t.Reread > 0 && res.Reread > t.Reread {
		p = append(p, fmt.Sprintf("every task read again %.2fs after the restart, over the target %v", res.Reread.Seconds(), t.Reread))
	}
	return p
}

// Print writes the report.
func (res *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "\nneurocards load run: %d sellers, one video each, KIE tasks of %v–%v\n", res.Sellers, res.JobMin, res.JobMax)
	target := func(want int64) string {
		if want <= 0 {
			return ""
		}
		return fmt.Sprintf(" (target ≤ %s)", mb(want))
	}
	fmt.Fprintf(w, "  all %d waiting on KIE after   %.1fs\n", res.Sellers, res.Ramp.Seconds())
	fmt.Fprintf(w, "  RSS with all waiting          %s%s, %d goroutines, %.1f KB per job\n", mb(res.RSSWaiting), target(res.Targets.RSS),
		res.Goroutines, float64(res.RSSWaiting)/1024/float64(max(1, res.Sellers)))
	fmt.Fprintf(w, "  peak RSS                      %s%s: %s in the ramp, %s in the restart until every task was read\n",
		mb(res.Peak), target(res.Targets.Peak), mb(res.PeakRamp), mb(res.PeakRestart))
	reread := ""
	if res.Targets.Reread > 0 {
		reread = fmt.Sprintf(" (target ≤ %v)", res.Targets.Reread)
	}
	fmt.Fprintf(w, "  every task read again after   %.2fs from the restart after SIGKILL%s, %d tasks, up to %d goroutines\n",
		res.Reread.Seconds(), reread, res.RereadTasks, res.RestartGoroutines)
	fmt.Fprintf(w, "  videos delivered              %d of %d (%d confirmed; %d KIE tasks; %d Bot API calls)\n", res.Delivered, res.Sellers, res.Confirmed, res.Tasks, res.Sends)
	fmt.Fprintf(w, "  confirm → video               %s\n", res.Waits)
	for _, text := range slices.Sorted(maps.Keys(res.Failures)) {
		fmt.Fprintf(w, "  failed ×%d: %s\n", res.Failures[text], text)
	}
	for _, s := range res.Stuck {
		fmt.Fprintf(w, "  unfinished: %s\n", s)
	}
	fmt.Fprintf(w, "  final SIGTERM                 %.2fs\n", res.Stop.Seconds())
	if res.HeapProfile != "" {
		fmt.Fprintf(w, "  heap profile, all waiting     %s (go tool pprof -top %s)\n", res.HeapProfile, res.HeapProfile)
	}
	if res.RestartProfile != "" {
		fmt.Fprintf(w, "  CPU profile of the restart    %s\n", res.RestartProfile)
	}
	fmt.Fprintf(w, "  neurocards check              exit %d\n", res.CheckExit)
	for _, line := range strings.Split(strings.TrimSpace(res.CheckOutput), "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
	if p := res.Problems(); len(p) > 0 {
		fmt.Fprintf(w, "\nPROBLEMS (%d):\n", len(p))
		for _, s := range p {
			fmt.Fprintf(w, "  - %s\n", s)
		}
		fmt.Fprintf(w, "data and logs kept in %s\n", res.WorkDir)
		return
	}
	fmt.Fprintln(w, "\nOK")
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
