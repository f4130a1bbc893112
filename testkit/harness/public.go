package harness

import (
	"fmt"
	"net"

	"neurocards/config"
)

// publicOn points KIE's callbacks and Telegram's webhook, as opt asks, at a public listener on
// a loopback port chosen now and kept for the Env's life, so that a restarted bot is found where
// the fakes were told it is.
func publicOn(cfg *config.Config, opt Options) error {
	if !opt.Callbacks && !opt.Webhook {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("harness: a port for the public listener: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg.PublicAddr = addr
	if opt.Callbacks {
		cfg.PublicURL = "http://" + addr
	}
	if opt.Webhook {
		cfg.WebhookURL = "http://" + addr + "/telegram"
	}
	return nil
}
