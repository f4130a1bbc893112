package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/store"
)

// check opens a data file read-only and verifies every invariant store.Check knows. It prints a
// summary and exits 1 listing each violation. bbolt lets one process open the file, so a running
// bot's data is checked through a backup.
func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "the data directory (default: NEUROCARDS_DATA_DIR, else ./data)")
	file := fs.String("file", "", "check this data file instead, e.g. a backup")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "neurocards check: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	path := *file
	if path == "" {
		path = filepath.Join(dataDirOf(*dataDir), store.FileName)
	}
	st, err := store.OpenFile(path, store.Options{ReadOnly: true, LockTimeout: 2 * time.Second})
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(stderr, "neurocards check: %s is in use by a running neurocards, and bbolt lets one process open it.\n"+
			"Check a hot copy instead:\n  neurocards backup /tmp/neurocards-check.db && neurocards check --file /tmp/neurocards-check.db\n", path)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "neurocards check: %v\n", err)
		return 1
	}
	defer st.Close()
	r, err := st.Check()
	if err != nil {
		fmt.Fprintf(stderr, "neurocards check: %s: %v\n", path, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(checkJSON{File: path, OK: len(r.Violations) == 0, Report: r}); err != nil {
			fmt.Fprintf(stderr, "neurocards check: %v\n", err)
			return 1
		}
	} else {
		printReport(stdout, path, r)
	}
	if len(r.Violations) > 0 {
		return 1
	}
	return 0
}

// checkJSON is `neurocards check --json`, for scripts and the torture test.
type checkJSON struct {
	File   string       `json:"file"`
	OK     bool         `json:"ok"`
	Report store.Report `json:"report"`
}

func printReport(w io.Writer, path string, r store.Report) {
	size := ""
	if fi, err := os.Stat(path); err == nil {
		size = fmt.Sprintf(" (%d KiB)", (fi.Size()+1023)/1024)
	}
	fmt.Fprintf(w, "data file:     %s%s\n", path, size)
	fmt.Fprintf(w, "users:         %d\n", r.Users)
	fmt.Fprintf(w, "jobs:          %d — %s\n", r.Jobs, stages(r.ByStage, true))
	fmt.Fprintf(w, "in flight:     %s\n", stages(r.ByStage, false))
	fmt.Fprintf(w, "credits:       %d on balances, %d held by jobs in flight\n", r.Balance, r.Held)
	fmt.Fprintf(w, "ledger rows:   %d\n", r.LedgerRows)
	fmt.Fprintf(w, "update offset: %d\n", r.Offset)
	fmt.Fprintf(w, "double holds:  %d, double captures: %d, double releases: %d\n", r.DoubleHolds, r.DoubleCaptures, r.DoubleReleases)
	if r.TaskRepeats > 0 {
		fmt.Fprintf(w, "warning:       %d jobs created more KIE tasks than the attempts they counted (KIE may have been paid twice)\n", r.TaskRepeats)
	}
	if len(r.Violations) == 0 {
		fmt.Fprintln(w, "✓ every invariant holds")
		return
	}
	fmt.Fprintf(w, "✗ %d violations:\n", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(w, "  - %s\n", v)
	}
}

// stages renders the jobs by outcome (terminal) or by stage (in flight), in the order a job
// moves through them.
func stages(by map[string]int, terminal bool) string {
	outcomes := []string{string(messages.OutcomeDone), string(messages.OutcomeFailed)}
	order := outcomes
	if !terminal {
		order = []string{string(messages.StageQueued), string(messages.StageUploading), string(messages.StageSubmitted),
			string(messages.StageGenerated), string(messages.StageDownloaded), string(messages.StageDelivered)}
		for k := range by {
			if !slices.Contains(order, k) && !slices.Contains(outcomes, k) {
				order = append(order, k)
			}
		}
	}
	var parts []string
	for _, k := range order {
		if n := by[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// dataDirOf is the data directory a maintenance command works on: the flag, else the bot's own
// configuration.
func dataDirOf(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return envConfig().DataDir
}

// envConfig is the configuration `neurocards run` would use. Problems with it are for `run` to
// report; maintenance commands only need the data directory and the admin address and token.
func envConfig() config.Config {
	cfg, _ := config.Load(os.LookupEnv)
	return cfg
}
