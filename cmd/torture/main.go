// Command torture is `make torture`: the crash test of neurocards. It runs the built binary as a
// separate process against the testkit fakes in this process, kills it with SIGKILL at random
// moments while sellers order jobs and KIE fails a share of calls, then in bursts of sellers
// confirming at once, each killed the moment KIE answers the burst's last createTask, and prints
// what a crash cost — tasks KIE was paid for twice among it.
// It exits 1 when any number that must be zero is not. See package neurocards/testkit/torture.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"neurocards/testkit/torture"
)

func main() { os.Exit(realMain()) }

func realMain() int {
	var opt torture.Options
	bin := flag.String("bin", "", "the built neurocards binary (default: build it now)")
	flag.IntVar(&opt.Sellers, "sellers", 30, "sellers ordering at the same time")
	flag.IntVar(&opt.Kills, "kills", 24, "SIGKILLs")
	flag.IntVar(&opt.Terms, "terms", 2, "graceful restarts (SIGTERM) mixed in")
	flag.DurationVar(&opt.MinUp, "min-up", 500*time.Millisecond, "shortest time the bot runs before a random kill")
	flag.DurationVar(&opt.MaxUp, "max-up", 3*time.Second, "longest time the bot runs before a random kill")
	flag.BoolVar(&opt.Aim, "aim", true, "aim every other kill at a stage no kill has hit yet")
	flag.IntVar(&opt.Bursts, "bursts", 5, "bursts after the random kills: sellers confirm at once, the bot is killed as KIE answers the last createTask (negative: none)")
	flag.IntVar(&opt.BurstSize, "burst-size", 50, "sellers confirming at once in a burst")
	flag.IntVar(&opt.MaxRecreated, "max-recreated", 2, "tasks a burst may create again before the run fails (negative: only report)")
	flag.DurationVar(&opt.JobTimeout, "job-timeout", 3*time.Minute, "NEUROCARDS_JOB_TIMEOUT for the bot")
	flag.DurationVar(&opt.Timeout, "timeout", 15*time.Minute, "the whole run")
	flag.Uint64Var(&opt.Seed, "seed", 0, "random seed (0: from the clock)")
	flag.StringVar(&opt.WorkDir, "work-dir", "", "keep the data and the bot's logs here (default: a temporary directory, removed when the run passes)")
	quiet := flag.Bool("q", false, "print only the report")
	race := flag.Bool("race", false, "build the bot with the race detector (when -bin is not given)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*quiet {
		opt.Out = os.Stdout
	}
	keep := opt.WorkDir != ""
	if *bin == "" {
		b, remove, err := torture.BuildTemp(ctx, *race)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer remove()
		*bin = b
	}
	opt.Binary = *bin
	res, err := torture.Run(ctx, opt)
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
		fmt.Println("(the data and logs are removed since the run passed; -work-dir keeps them)")
	}
	return 0
}
