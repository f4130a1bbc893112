package torture

import (
	"context"
	"net/http"
	"time"

	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// kieScript scripts every createTask: a share is refused with a 500 (nothing created), a share
// of tasks fail at KIE with a transient error, and the rest succeed after a few polls. Every
// failure here is one a retry gets past, so jobs eventually succeed unless three attempts in a
// row fail.
func (r *run) kieScript(n int, model string, input map[string]any) kiefake.Script {
	sc := kiefake.Script{Waiting: 1 + r.intn(3), Generating: 2 + r.intn(6)}
	switch {
	case r.chance(0.12):
		sc.CreateReply = &kiefake.Reply{HTTPStatus: http.StatusInternalServerError}
	case r.chance(0.08):
		sc.Outcome = kiefake.Outcome{Fail: true, FailCode: "500", FailMsg: "Internal Error, Please try again later."}
	}
	return sc
}

// chaos keeps injecting the other faults while the run lasts: recordInfo errors, a result
// download answered 5xx, slow photo downloads and uploads (the job sits in uploading), slow but
// successful sends of results (the job sits in downloaded, and a kill then may deliver twice),
// and earlier updates delivered again (a kill before the offset was confirmed, without waiting
// for a kill to fall in that window).
func (r *run) chaos(ctx context.Context) {
	tick := time.NewTicker(400 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		switch r.intn(8) {
		case 0:
			r.kie.FailRecordInfo(1+r.intn(2), kiefake.Reply{HTTPStatus: http.StatusInternalServerError})
		case 1:
			r.kie.FailFiles(1, http.StatusServiceUnavailable)
		case 2:
			r.kie.FailUploads(1, kiefake.Reply{Delay: r.between(200*time.Millisecond, 800*time.Millisecond)})
		case 3:
			r.tg.Fail("file", 0, 1, tgfake.Reply{Delay: r.between(200*time.Millisecond, 800*time.Millisecond)})
		case 4:
			r.tg.Fail("sendVideo", 0, 1, tgfake.Reply{Delay: r.between(200*time.Millisecond, 800*time.Millisecond)})
		case 5:
			r.tg.Fail("sendPhoto", 0, 1, tgfake.Reply{Delay: r.between(200*time.Millisecond, 800*time.Millisecond)})
		default:
			if len(r.sellers) > 0 && r.sellers[r.intn(len(r.sellers))].resendOne() {
				r.resent.Add(1)
			}
		}
	}
}
