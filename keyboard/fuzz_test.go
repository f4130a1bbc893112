package keyboard

import (
	"strings"
	"testing"
)

// FuzzParse: callback data is whatever a client sends. Parse never panics, accepts nothing over
// Telegram's limit, and what it accepts survives being built again from its parts.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"k:video", "ok:12", "no:1", "skip:3", "again:card:7", "again:card", "retry:9", "redo:4",
		"menu", "bal", "help", "hist", "buy", "buy:50", "lang:en", "lang:xx", "ok:-1", "ok:", "", ":", "again::", "k:" + strings.Repeat("a", 70)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		cb, ok := Parse(data)
		if !ok {
			return
		}
		if len(data) > MaxData {
			t.Fatalf("accepted %d bytes", len(data))
		}
		var again string
		switch cb.Action {
		case Generate, Cancel, Skip, Retry, Redo:
			if cb.ID == 0 {
				t.Fatalf("%q: an id of 0", data)
			}
			again = cb.Action.ID(cb.ID)
		case Again:
			if cb.ID == 0 {
				again = Again.Data(cb.Arg)
			} else {
				again = AgainData(cb.Arg, cb.ID)
			}
		default:
			again = cb.Action.Data(cb.Arg)
		}
		if back, ok := Parse(again); !ok || back != cb {
			t.Fatalf("%q parsed as %+v, rebuilt as %q, parsed again as %+v", data, cb, again, back)
		}
	})
}

func FuzzPayloadPack(f *testing.F) {
	for _, seed := range []string{"pack:10:abc", "pack::x", "pack:10", "10:abc", "pack:../x:y"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		id, ok := PayloadPack(payload)
		if ok && !validID(id) {
			t.Fatalf("%q gave pack %q", payload, id)
		}
	})
}
