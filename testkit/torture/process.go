package torture

import "time"

// Process is the built bot run as an operator runs it, for other drivers (the load run): the
// binary configured only through env, its output appended to logPath across restarts.
type Process struct{ b botProcess }

// NewProcess prepares bin to run as `neurocards run` with env; Start launches it.
func NewProcess(bin string, env []string, logPath string) *Process {
	return &Process{b: botProcess{bin: bin, env: env, logPath: logPath}}
}

// Start launches the bot; the previous process must have exited.
func (p *Process) Start() error { return p.b.start() }

// PID is the running process's id, 0 before the first Start.
func (p *Process) PID() int {
	if p.b.cmd == nil || p.b.cmd.Process == nil {
		return 0
	}
	return p.b.cmd.Process.Pid
}

// Running reports whether the process is alive.
func (p *Process) Running() bool { return p.b.running() }

// Err is how the last process exited, once it has.
func (p *Process) Err() error {
	if p.b.running() {
		return nil
	}
	return p.b.err
}

// Kill sends SIGKILL and waits until the process is gone.
func (p *Process) Kill() { p.b.kill() }

// Term sends SIGTERM and waits up to timeout for a clean exit (then kills); it returns how long
// the stop took.
func (p *Process) Term(timeout time.Duration) (time.Duration, error) { return p.b.term(timeout) }
