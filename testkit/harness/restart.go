package harness

import "fmt"

// RestartWith stops the bot gracefully, runs between on its data directory while nothing holds
// the data file, and starts the bot again. A test uses it to put the data in a state only a crash
// leaves behind, e.g. updates handled but the offset not yet saved.
func (e *Env) RestartWith(between func(dataDir string) error) error {
	if err := e.StopBot(); err != nil {
		return fmt.Errorf("harness: restart: %w", err)
	}
	if err := between(e.Config.DataDir); err != nil {
		return fmt.Errorf("harness: restart: %w", err)
	}
	return e.startBot()
}
