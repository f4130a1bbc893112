//go:build race

package load

// raceEnabled: under `go test -race` the bot is built with the race detector too.
const raceEnabled = true
