//go:build race

package torture

// raceEnabled: under `go test -race` the bot is built with the race detector too.
const raceEnabled = true
