package kiefake_test

import (
	"testing"
	"time"

	"neurocards/testkit/kiefake"
)

// A lean fake still starts tasks on photos it was sent, keeps no bytes, and the census counts
// tasks created, ended, read, and read again since a moment.
func TestLeanCensus(t *testing.T) {
	h := start(t)
	h.fake.Lean()
	h.fake.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
		if n == 1 {
			return kiefake.Script{Waiting: -1, Generating: -1} // ends at its first read
		}
		return kiefake.Script{Forever: true}
	})
	photo := h.uploadedURL()
	var ids []string
	for range 3 {
		ids = append(ids, taskID(t, h.create("google/nano-banana-edit", map[string]any{"prompt": "a mug", "image_urls": []string{photo}}, "")))
	}
	if up := h.fake.Uploads(); len(up) != 0 {
		t.Errorf("a lean fake listed %d uploads", len(up))
	}
	if c := h.fake.Census(time.Time{}); c != (kiefake.Census{Created: 3}) {
		t.Errorf("before any read: %+v", c)
	}
	h.poll(ids[0])
	h.poll(ids[1])
	mark := time.Now()
	if _, r := h.poll(ids[0]); r.State != "success" {
		t.Errorf("the first task is %s, want success: the photo it names was uploaded", r.State)
	}
	if c := h.fake.Census(mark); c != (kiefake.Census{Created: 3, Ended: 1, Polled: 1}) || c.Running() != 2 {
		t.Errorf("after reads: %+v", c)
	}
	h.poll(ids[1])
	h.poll(ids[2])
	if c := h.fake.Census(mark); c.ReadSince != 2 || c.Polled != 2 {
		t.Errorf("every running task read again since the mark: %+v", c)
	}
}
