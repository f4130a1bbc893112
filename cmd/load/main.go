// Command load is `make load`: the load run of neurocards. It runs the built binary as a
// separate process against the testkit fakes in this process, has N sellers each order a video
// whose KIE task takes minutes, kills the bot with SIGKILL while all N wait and restarts it, and
// prints the bot's resident set, its peak, how long every task took to be read again, the videos
// delivered and confirm → video percentiles. It exits 1 when a video is missing, `neurocards
// check` fails, or a target is missed. See package neurocards/testkit/load.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"neurocards/testkit/load"
	"neurocards/testkit/torture"
)

func main() { os.Exit(realMain()) }

func realMain() int {
	var opt load.Options
	bin := flag.String("bin", "", "the built neurocards binary (default: build it now)")
	flag.IntVar(&opt.Sellers, "sellers", 2000, "sellers, each ordering one video")
	flag.Float64Var(&opt.Rate, "rate", 0, "sellers starting per second (0: all at once)")
	flag.DurationVar(&opt.JobMin, "job-min", 90*time.Second, "shortest KIE task")
	flag.DurationVar(&opt.JobMax, "job-max", 2*time.Minute, "longest KIE task")
	flag.DurationVar(&opt.Settle, "settle", 10*time.Second, "wait with all jobs waiting before reading the resident set")
	flag.DurationVar(&opt.Timeout, "timeout", 0, "the whole run (default: the longest task + 15 min)")
	flag.StringVar(&opt.WorkDir, "work-dir", "", "keep the data, the bot's logs and its heap profile here (default: a temporary directory, removed when the run passes)")
	rss := flag.Int64("max-rss", 300, "target: MB resident with all jobs waiting (0: not judged)")
	peak := flag.Int64("max-peak", 400, "target: MB peak resident (0: not judged)")
	flag.DurationVar(&opt.Targets.Reread, "max-reread", 3*time.Second, "target: every task read again this soon after the restart (0: not judged)")
	flag.Func("env", "K=V added to the bot's environment, e.g. GOMEMLIMIT=250MiB (repeatable)", func(kv string) error {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("%q is not K=V", kv)
		}
		opt.Env = append(opt.Env, kv)
		return nil
	})
	quiet := flag.Bool("q", false, "print only the report")
	flag.Parse()
	opt.Targets.RSS, opt.Targets.Peak = *rss<<20, *peak<<20

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*quiet {
		opt.Out = os.Stdout
	}
	keep := opt.WorkDir != ""
	if *bin == "" {
		b, remove, err := torture.BuildTemp(ctx, false)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer remove()
		*bin = b
	}
	opt.Binary = *bin
	res, err := load.Run(ctx, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	res.Print(os.Stdout)
	if len(res.Problems()) > 0 {
		return 1
	}
	if !keep {
		os.RemoveAll(res.WorkDir)
		fmt.Println("(the data, logs and profile are removed since the run passed; -work-dir keeps them)")
	}
	return 0
}
