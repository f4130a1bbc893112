package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ServesPublic reports whether the bot runs its public listener: KIE calls back, or Telegram
// delivers updates by webhook.
func (c Config) ServesPublic() bool { return c.PublicURL != "" || c.WebhookURL != "" }

// checkPublic validates the public listener's settings. Both URLs carry secrets (the callback
// URL its per-job secret, the webhook its secret token header), so they must be HTTPS; plain
// HTTP is accepted only on loopback, where tests run.
func (c Config) checkPublic() Problems {
	var p Problems
	if !c.ServesPublic() {
		if c.KIEWebhookKey != "" {
			p = append(p, "NEUROCARDS_KIE_WEBHOOK_KEY is set but NEUROCARDS_PUBLIC_URL is not: without a public URL KIE never calls back")
		}
		return p
	}
	if _, _, err := net.SplitHostPort(c.PublicAddr); err != nil {
		p = append(p, fmt.Sprintf("NEUROCARDS_PUBLIC_ADDR %q is not host:port", c.PublicAddr))
	} else if c.PublicAddr == c.AdminAddr {
		p = append(p, "NEUROCARDS_PUBLIC_ADDR must differ from NEUROCARDS_ADMIN_ADDR: the public listener faces the internet, the admin one must not")
	}
	for _, u := range []struct{ name, v string }{{"NEUROCARDS_PUBLIC_URL", c.PublicURL}, {"NEUROCARDS_WEBHOOK_URL", c.WebhookURL}} {
		if u.v == "" {
			continue
		}
		parsed, err := url.Parse(u.v)
		if err != nil {
			continue // the reader has reported it
		}
		if parsed.Scheme != "https" && !loopbackHost(parsed.Hostname()) {
			p = append(p, fmt.Sprintf("%s must be an https:// URL (http:// only on a loopback address, for tests)", u.name))
		}
		if parsed.RawQuery != "" || parsed.Fragment != "" || parsed.User != nil {
			p = append(p, fmt.Sprintf("%s must have no query, fragment or user: the bot adds its own path", u.name))
		}
	}
	return p
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
