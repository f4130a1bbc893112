// Command neurocards is the bot: `run` serves sellers, `sandbox` plays a seller against built-in
// fakes with no tokens at all, `check` verifies a data file, `backup` copies it while the bot runs,
// `version` prints the build.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"neurocards/app"
	"neurocards/config"
	"neurocards/store"
)

const usage = `neurocards — product videos and marketplace cards from one photo, in Telegram.

Usage:
  neurocards run        serve sellers (needs NEUROCARDS_TELEGRAM_TOKEN and NEUROCARDS_KIE_API_KEY)
  neurocards sandbox    the whole bot against built-in fakes, a scripted seller, no tokens
  neurocards sandbox --web [--addr 127.0.0.1:8090]
                        the same bot and fakes with a chat page instead of the script: play the
                        seller in a browser, break things on purpose
  neurocards check [--data-dir D | --file F] [--json]
                        verify a data file (the bot must be stopped, or check a backup)
  neurocards backup [--data-dir D] <file>
                        a consistent copy of the data, from the running bot (over the admin
                        address, with NEUROCARDS_ADMIN_TOKEN) or from the file when none runs
  neurocards version    print the version

Configuration comes from NEUROCARDS_* environment variables; see README.md.
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "run":
		return run(ctx, stderr)
	case "sandbox":
		return sandbox(ctx, args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "backup":
		return backup(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "neurocards: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func run(ctx context.Context, stderr io.Writer) int {
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "neurocards: %v\n", err)
		return 1
	}
	if err := cfg.RequireTokens(); err != nil {
		fmt.Fprintf(stderr, "neurocards: %v\n\nTo try the bot without any tokens, run: neurocards sandbox\n", err)
		return 1
	}
	log := newLogger(stderr, cfg.LogLevel)
	a, err := app.New(cfg, app.Options{Logger: log})
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(stderr, "neurocards: %v\nOnly one neurocards may use a data directory (%s); stop the other one first.\n", err, cfg.DataDir)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "neurocards: %v\n", err)
		return 1
	}
	defer a.Close()
	if err := a.Run(ctx); err != nil {
		log.Error("neurocards stopped", "err", err)
		return 1
	}
	log.Info("neurocards stopped")
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		lvl = slog.LevelInfo
	}
	l := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
	slog.SetDefault(l)
	return l
}

// buildVersion is set by the Makefile (-ldflags -X main.buildVersion=…).
var buildVersion string

func version() string {
	v := buildVersion
	if v == "" {
		v = "devel"
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += " " + bi.GoVersion
	}
	return "neurocards " + v
}
