// Package metrics counts what an operator watches: failures by source and class, jobs by outcome,
// breaker trips. It is the one place counters live; the admin server exports them.
package metrics

import (
	"sort"
	"strings"
	"sync"
)

// Counters is a set of named monotonic counters with labels. The zero value is ready to use.
type Counters struct {
	mu sync.Mutex
	m  map[string]int64
}

// Inc adds one to the counter name{labels}. Labels are key=value pairs, e.g. "class", "operator".
func (c *Counters) Inc(name string, labels ...string) { c.Add(name, 1, labels...) }

// Add adds n to the counter name{labels}.
func (c *Counters) Add(name string, n int64, labels ...string) {
	key := Key(name, labels...)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[key] += n
	c.mu.Unlock()
}

// Get returns the current value of name{labels}.
func (c *Counters) Get(name string, labels ...string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[Key(name, labels...)]
}

// Snapshot returns every counter, keyed like Prometheus series: name{k="v",…}.
func (c *Counters) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Key renders name and label pairs as name{k="v",…}, labels sorted by key.
func Key(name string, labels ...string) string {
	if len(labels) < 2 {
		return name
	}
	pairs := make([]string, 0, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+`="`+labels[i+1]+`"`)
	}
	sort.Strings(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}
