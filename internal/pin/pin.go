// Package pin keeps the pinned dependencies in go.mod while the packages that use them are written.
package pin

import (
	_ "github.com/anthdm/hollywood/actor"
	_ "github.com/go-telegram/bot"
	_ "github.com/sony/gobreaker/v2"
	_ "go.etcd.io/bbolt"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/time/rate"
)
