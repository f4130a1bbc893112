package torture

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
)

// What the drivers that run the built bot as its own process share: the crash test here and the
// load run (testkit/load).

// Build compiles the neurocards command into dir, as `make build` does (with the race detector
// when race is set), and returns its path.
func Build(ctx context.Context, dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "neurocards")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	out, err := exec.CommandContext(ctx, "go", append(args, "neurocards/cmd/neurocards")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("torture: go build: %w\n%s", err, out)
	}
	return bin, nil
}

// BuildTemp is Build into a new temporary directory; remove takes it away again.
func BuildTemp(ctx context.Context, race bool) (bin string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "neurocards-bin-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	if bin, err = Build(ctx, dir, race); err != nil {
		remove()
		return "", nil, err
	}
	return bin, remove, nil
}

// Secret is a random hex string for a run's tokens and keys.
func Secret() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// FreePort finds a loopback port for the bot's admin server; it stays the same across restarts.
func FreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ExitCode is a finished command's exit status: 0, its code, or -1 when it did not run.
func ExitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// DataRaces counts the race detector's reports in a bot's output (a bot built with -race that is
// killed never exits with the detector's code, so its logs are where a race shows).
func DataRaces(logs []byte) int { return bytes.Count(logs, []byte("WARNING: DATA RACE")) }
