package testkit

import (
	"net"
	"net/url"
)

// Loopback reports whether target is on this machine. The fakes call only such addresses (KIE's
// callbacks, Telegram's webhook): no test reaches out of the machine.
func Loopback(target string) bool {
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
