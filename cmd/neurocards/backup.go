package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"neurocards/admin"
	"neurocards/config"
	"neurocards/store"
)

// backup writes a consistent copy of the data file to a file.
//
// bbolt lets one process open the data file, so while the bot runs no other process can read
// it: the copy has to come from the bot. backup first asks the bot over its admin address
// (GET /backup with the admin token), which streams a snapshot taken in one read transaction
// while it keeps serving. When no bot answers there, nothing holds the file and backup copies it
// itself, the same way. Either way the copy lands in a temporary file next to the target, is
// opened and checked, and only then renamed into place.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "the data directory (default: NEUROCARDS_DATA_DIR, else ./data)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: neurocards backup [--data-dir D] <file>")
		return 2
	}
	target := fs.Arg(0)
	cfg := envConfig()
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	dataFile := filepath.Join(cfg.DataDir, store.FileName)
	if sameFile(dataFile, target) {
		fmt.Fprintf(stderr, "neurocards backup: %s is the data file itself; write the copy somewhere else\n", target)
		return 2
	}

	r, n, source, viaBot := backupFromBot(ctx, cfg, dataFile, target)
	if viaBot != nil {
		st, err := store.OpenFile(dataFile, store.Options{ReadOnly: true, LockTimeout: time.Second})
		if errors.Is(err, store.ErrLocked) {
			fmt.Fprintf(stderr, "neurocards backup: %s is in use by a running neurocards, and asking it for a copy failed: %v\n"+
				"Run backup with the bot's NEUROCARDS_ADMIN_ADDR and NEUROCARDS_ADMIN_TOKEN.\n", dataFile, viaBot)
			return 1
		}
		if err != nil {
			fmt.Fprintf(stderr, "neurocards backup: %v\n", err)
			return 1
		}
		r, n, err = store.WriteBackup(target, func(w io.Writer) (int64, error) { return st.Backup(w) })
		st.Close()
		if err != nil {
			fmt.Fprintf(stderr, "neurocards backup: %v\n", err)
			return 1
		}
		source = "from " + dataFile + " (no bot was running)"
	}
	fmt.Fprintf(stdout, "backup: wrote %s (%d bytes), %s\n", target, n, source)
	fmt.Fprintf(stdout, "        users %d, jobs %d (%s in flight), ledger rows %d\n", r.Users, r.Jobs, stages(r.ByStage, false), r.LedgerRows)
	if len(r.Violations) > 0 {
		fmt.Fprintf(stdout, "        the data holds %d invariant violations; `neurocards check --file %s` lists them\n", len(r.Violations), target)
	}
	return 0
}

// backupFromBot asks the bot at the admin address for a copy and writes it to target. The error
// says why that did not work; the caller then tries the file itself.
func backupFromBot(ctx context.Context, cfg config.Config, dataFile, target string) (store.Report, int64, string, error) {
	if cfg.AdminToken == "" {
		return store.Report{}, 0, "", errors.New("NEUROCARDS_ADMIN_TOKEN is not set, so the bot cannot be asked")
	}
	url := "http://" + cfg.AdminAddr + "/backup"
	client := &http.Client{Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		ResponseHeaderTimeout: 30 * time.Second,
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return store.Report{}, 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.AdminToken)
	resp, err := client.Do(req)
	if err != nil {
		return store.Report{}, 0, "", fmt.Errorf("no bot answers at %s: %w", cfg.AdminAddr, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return store.Report{}, 0, "", fmt.Errorf("the bot at %s answered %s", cfg.AdminAddr, resp.Status)
	}
	if from := resp.Header.Get(admin.DataFileHeader); !sameFile(from, dataFile) {
		return store.Report{}, 0, "", fmt.Errorf("the bot at %s serves %q, not %s", cfg.AdminAddr, from, dataFile)
	}
	r, n, err := store.WriteBackup(target, func(w io.Writer) (int64, error) {
		n, err := io.Copy(w, resp.Body)
		if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
			err = fmt.Errorf("the transfer was cut short: %d of %d bytes", n, resp.ContentLength)
		}
		return n, err
	})
	if err != nil {
		return r, n, "", fmt.Errorf("copying from the bot at %s: %w", cfg.AdminAddr, err)
	}
	return r, n, "a hot copy from the running bot at " + cfg.AdminAddr, nil
}

// sameFile reports whether two paths name the same existing file.
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}
