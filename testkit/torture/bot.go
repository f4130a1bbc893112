package torture

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// botProcess is `neurocards run` as an operator starts it: the built binary, configured only
// through its environment, its logs appended to one file across restarts.
type botProcess struct {
	bin     string
	env     []string
	logPath string

	cmd    *exec.Cmd
	exited chan struct{} // closed when the running process has exited
	err    error         // its exit status, once exited is closed
	starts int
}

// start launches the bot. The previous process must have exited.
func (b *botProcess) start() error {
	logs, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logs.Close()
	b.starts++
	fmt.Fprintf(logs, "=== torture: start #%d at %s ===\n", b.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(b.bin, "run")
	cmd.Env = b.env
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("torture: start %s: %w", b.bin, err)
	}
	exited := make(chan struct{})
	b.cmd, b.exited = cmd, exited
	go func() {
		b.err = cmd.Wait()
		close(exited)
	}()
	return nil
}

// running reports whether the process is alive.
func (b *botProcess) running() bool {
	if b.cmd == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be gone, so its file lock is released.
func (b *botProcess) kill() {
	if !b.running() {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.exited
}

// term sends SIGTERM and waits up to timeout for a clean exit, then kills. It returns how long
// the stop took.
func (b *botProcess) term(timeout time.Duration) (time.Duration, error) {
	if !b.running() {
		return 0, errors.New("the bot was not running")
	}
	start := time.Now()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-b.exited:
		took := time.Since(start)
		if b.err != nil {
			return took, fmt.Errorf("exit after SIGTERM: %w", b.err)
		}
		return took, nil
	case <-t.C:
		b.kill()
		return time.Since(start), fmt.Errorf("no exit within %v of SIGTERM; killed", timeout)
	}
}
