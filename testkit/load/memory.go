package load

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procMemory reads a process's resident set now (VmRSS) and its peak so far (VmHWM) from
// /proc, in bytes: what the operator's `top` and the kernel's OOM killer see.
func procMemory(pid int) (rss, peak int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, sc.Err()
}

// watch samples the bot's resident set every tick while it runs, across restarts, and keeps the
// highest it saw; the kernel's own peak (VmHWM) is read as well, so nothing between samples is
// missed.
type watch struct {
	pid  func() int
	mu   sync.Mutex
	peak int64
}

func (w *watch) run(stop <-chan struct{}, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		w.sample()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// sample reads the bot's memory now: the running process's resident set and its peak so far (0
// when no bot is running).
func (w *watch) sample() (rss, hwm int64) {
	pid := w.pid()
	if pid == 0 {
		return 0, 0
	}
	rss, hwm, err := procMemory(pid)
	if err != nil {
		return 0, 0 // between a kill and the next start
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.peak = max(w.peak, rss, hwm)
	return rss, hwm
}

// highest is the highest resident set seen in any of the bot's processes so far.
func (w *watch) highest() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}
