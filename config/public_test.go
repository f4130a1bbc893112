package config

import (
	"strings"
	"testing"
	"time"
)

func TestPublicSettings(t *testing.T) {
	c, err := Load(env(map[string]string{
		"NEUROCARDS_PUBLIC_URL":      "https://bot.example.com/nc/",
		"NEUROCARDS_WEBHOOK_URL":     "https://bot.example.com/nc/telegram",
		"NEUROCARDS_PUBLIC_ADDR":     "127.0.0.1:9443",
		"NEUROCARDS_KIE_WEBHOOK_KEY": "hmac-key",
		"NEUROCARDS_KIE_POLL_SLOW":   "90s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://bot.example.com/nc" || c.WebhookURL != "https://bot.example.com/nc/telegram" ||
		c.PublicAddr != "127.0.0.1:9443" || c.KIEWebhookKey != "hmac-key" || c.Timing.PollSlow != 90*time.Second || !c.ServesPublic() {
		t.Errorf("config: %+v", c)
	}

	d, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if d.ServesPublic() || d.Timing.PollSlow != 2*time.Minute || d.PublicAddr != "127.0.0.1:8081" {
		t.Errorf("defaults: public %v, poll slow %v, addr %q", d.ServesPublic(), d.Timing.PollSlow, d.PublicAddr)
	}

	loop, err := Load(env(map[string]string{"NEUROCARDS_PUBLIC_URL": "http://127.0.0.1:9000", "NEUROCARDS_WEBHOOK_URL": "http://localhost:9000/tg"}))
	if err != nil || loop.PublicURL != "http://127.0.0.1:9000" {
		t.Errorf("plain http on loopback: %v", err)
	}
}

func TestPublicProblems(t *testing.T) {
	for name, tc := range map[string]struct {
		vars map[string]string
		want []string
	}{
		"plain http on the internet": {
			vars: map[string]string{"NEUROCARDS_PUBLIC_URL": "http://bot.example.com", "NEUROCARDS_WEBHOOK_URL": "http://bot.example.com/tg"},
			want: []string{"NEUROCARDS_PUBLIC_URL must be an https://", "NEUROCARDS_WEBHOOK_URL must be an https://"},
		},
		"the admin address": {
			vars: map[string]string{"NEUROCARDS_PUBLIC_URL": "https://bot.example.com", "NEUROCARDS_PUBLIC_ADDR": "127.0.0.1:8080"},
			want: []string{"NEUROCARDS_PUBLIC_ADDR must differ from NEUROCARDS_ADMIN_ADDR"},
		},
		"no port": {
			vars: map[string]string{"NEUROCARDS_WEBHOOK_URL": "https://bot.example.com/tg", "NEUROCARDS_PUBLIC_ADDR": "8443"},
			want: []string{`NEUROCARDS_PUBLIC_ADDR "8443" is not host:port`},
		},
		"a query": {
			vars: map[string]string{"NEUROCARDS_PUBLIC_URL": "https://bot.example.com/?a=1"},
			want: []string{"NEUROCARDS_PUBLIC_URL must have no query"},
		},
		"a signing key without callbacks": {
			vars: map[string]string{"NEUROCARDS_KIE_WEBHOOK_KEY": "do-not-print-me"},
			want: []string{"NEUROCARDS_KIE_WEBHOOK_KEY is set but NEUROCARDS_PUBLIC_URL is not"},
		},
		"a slow poll faster than the fast one": {
			vars: map[string]string{"NEUROCARDS_KIE_POLL_SLOW": "1s"},
			want: []string{"NEUROCARDS_KIE_POLL_SLOW must not be below NEUROCARDS_KIE_POLL_MIN"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(tc.vars))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "do-not-print-me") {
				t.Error("the error repeats the signing key")
			}
		})
	}
}
