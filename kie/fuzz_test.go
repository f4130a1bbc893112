package kie

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// answers are bodies seen from KIE and from what stands in front of it; {key} is replaced by
// the API key, as a server that echoes the request would.
var answers = []string{
	`{"code":200,"msg":"success","data":{"taskId":"e989621f54392584b05867f87b160672"}}`,
	`{"code":"200","message":"success","data":{"taskId":12345}}`,
	`{"code":200,"msg":"success","data":{"taskId":"a","model":"kling-2.6/image-to-video","state":"success","resultJson":"{\"resultUrls\":[\"https://example.com/v.mp4\"]}","costTime":8,"createTime":1755599634000,"completeTime":1755599644000}}`,
	`{"code":200,"msg":"success","data":{"taskId":"a","state":"fail","failCode":501,"failMsg":"Your prompt was flagged","consumeCredits":"0"}}`,
	`{"code":200,"data":{"taskId":"a","state":"success","resultJson":{"resultUrls":["u"]},"creditsConsumed":"1e400"}}`,
	`{"code":200,"data":{"taskId":"a","state":"generating","resultJson":"\"[]\"","costTime":"NaN","createTime":-1e300}}`,
	`{"code":422,"msg":"recordInfo is null","data":null}`,
	`{"code":401,"msg":"Invalid key: Bearer {key}","data":null}`,
	`{"code":402,"msg":"The current credits are insufficient.","success":false}`,
	`<html><pre>Bearer {key}</pre></html>`,
	`{"code":200,"success":false,"data":{}}`,
	``,
}

// checkError asserts what every failed answer must give: an error free of the key that
// classifies with a wait between 0 and MaxRetryAfter.
func checkError(t *testing.T, err error) {
	t.Helper()
	f := Classify(err)
	for _, s := range []string{err.Error(), f.Detail, f.Code} {
		if strings.Contains(s, testKey) {
			t.Fatalf("the key is in %q", s)
		}
	}
	if f.Class == "" || f.RetryAfter < 0 || f.RetryAfter > MaxRetryAfter {
		t.Fatalf("%v classified %+v", err, f)
	}
}

// FuzzCreateTaskAnswer: any answer to createTask gives a task id or a classified error.
func FuzzCreateTaskAnswer(f *testing.F) {
	for _, a := range answers {
		f.Add(200, "", []byte(a))
		f.Add(429, "12", []byte(a))
	}
	f.Add(503, "9223372037", []byte(answers[0]))
	c := New(Config{APIKey: testKey, Logger: quietLogger()})
	f.Fuzz(func(t *testing.T, status int, retry string, body []byte) {
		body = bytes.ReplaceAll(body, []byte("{key}"), []byte(testKey))
		data, err := c.answer("create task", status, retry, body)
		var id string
		if err == nil {
			id, err = taskID(data)
		}
		if err != nil {
			checkError(t, err)
			return
		}
		if id == "" {
			t.Fatal("success without a task id")
		}
	})
}

// FuzzRecordInfoAnswer: any answer to recordInfo, resultJson-in-JSON included, gives a record
// with a task id or a classified error; a failed record always classifies.
func FuzzRecordInfoAnswer(f *testing.F) {
	for _, a := range answers {
		f.Add(200, []byte(a))
	}
	c := New(Config{APIKey: testKey, Logger: quietLogger()})
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		body = bytes.ReplaceAll(body, []byte("{key}"), []byte(testKey))
		data, err := c.answer("record info", status, "", body)
		var rec Record
		if err == nil {
			if rec, err = decodeRecord(data); err != nil {
				err = &Error{Op: "record info", Msg: "bad record", Err: err}
			}
		}
		if err != nil {
			checkError(t, err)
			return
		}
		checkRecord(t, rec)
	})
}

func checkRecord(t *testing.T, rec Record) {
	t.Helper()
	if rec.TaskID == "" {
		t.Fatal("a record without a task id")
	}
	if fail := ClassifyRecord(rec); (rec.State == StateFail) != (fail.Class != "") {
		t.Fatalf("state %q classified %+v", rec.State, fail)
	}
}

// FuzzParseCallback: any body POSTed to the callback URL gives a record with a task id or an
// error, never a panic.
func FuzzParseCallback(f *testing.F) {
	for _, a := range answers {
		f.Add([]byte(a))
	}
	f.Add([]byte(`{"code":501,"msg":"Playground task failed.","data":{"taskId":"bd3a","state":"fail","failCode":"500","failMsg":"Internal server error"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec, err := ParseCallback(body)
		if err != nil {
			checkError(t, err)
			return
		}
		checkRecord(t, rec)
	})
}

// FuzzRetryAfter: any Retry-After header gives a wait between 0 and MaxRetryAfter.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, h := range []string{"12", "-1", "0", "86400", "9223372037", "99999999999999999999", "+5", " 7 ",
		now.Add(time.Minute).Format(http.TimeFormat), now.AddDate(100, 0, 0).Format(http.TimeFormat), "Fri, 31 Dec 9999 23:59:59 GMT", "soon"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if d := retryAfter(h, now); d < 0 || d > MaxRetryAfter {
			t.Fatalf("Retry-After %q: %v", h, d)
		}
	})
}

// TestRetryAfter: the waits KIE asks for, read once and bounded.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"12":                   12 * time.Second,
		"":                     0,
		"-1":                   0,
		"299":                  299 * time.Second,
		"86400":                MaxRetryAfter,
		"9223372037":           MaxRetryAfter, // seconds past what a Duration holds: once wrapped negative
		"99999999999999999999": MaxRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.AddDate(1, 0, 0).Format(http.TimeFormat):      MaxRetryAfter,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		"soon": 0,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
}
