package kie

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// State is a market task's state as recordInfo reports it.
type State string

const (
	StateWaiting    State = "waiting"
	StateQueuing    State = "queuing"
	StateGenerating State = "generating"
	StateSuccess    State = "success"
	StateFail       State = "fail"
)

// Record is one market task as recordInfo or a callback describes it.
type Record struct {
	TaskID          string
	Model           string
	State           State
	ResultURLs      []string // empty while the task runs
	FailCode        string   // "" when KIE sent null
	FailMsg         string
	CostTime        int64 // seconds on the live API, milliseconds in one docs copy: prefer the timestamps
	CreditsConsumed float64
	CreateTime      int64 // epoch milliseconds
	CompleteTime    int64 // epoch milliseconds, 0 while running
}

// Done reports whether the task has reached a terminal state.
func (r Record) Done() bool { return r.State == StateSuccess || r.State == StateFail }

// ParseCallback decodes the body KIE POSTs to callBackUrl for a market task: the recordInfo envelope
// with code 200 (success) or 501 (failed) and the record as data. The caller should still treat it
// as a hint and confirm with RecordInfo: the optional signature does not cover the body.
func ParseCallback(body []byte) (Record, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Record{}, &Error{Op: "callback", Msg: "body is not JSON", Err: err}
	}
	if env.Code == nil || (*env.Code != 200 && *env.Code != 501) {
		return Record{}, &Error{Op: "callback", Code: env.code(), Msg: env.msg()}
	}
	rec, err := decodeRecord(env.Data)
	if err != nil {
		return Record{}, &Error{Op: "callback", Msg: "bad record", Err: err}
	}
	return rec, nil
}

// wireRecord is the record as sent; every field KIE has been seen to send in more than one type is
// decoded leniently.
type wireRecord struct {
	TaskID          string          `json:"taskId"`
	TaskIDSnake     string          `json:"task_id"` // the docs' own webhook example spells it so
	Model           string          `json:"model"`
	State           string          `json:"state"`
	ResultJSON      json.RawMessage `json:"resultJson"`
	FailCode        scalar          `json:"failCode"`
	FailMsg         scalar          `json:"failMsg"`
	CostTime        number          `json:"costTime"`
	CreditsConsumed number          `json:"creditsConsumed"`
	ConsumeCredits  number          `json:"consumeCredits"` // the callback's name for the same thing
	CreateTime      number          `json:"createTime"`
	CompleteTime    number          `json:"completeTime"`
}

func decodeRecord(data json.RawMessage) (Record, error) {
	if isNull(data) {
		return Record{}, fmt.Errorf("data is null")
	}
	var w wireRecord
	if err := json.Unmarshal(data, &w); err != nil {
		return Record{}, err
	}
	if w.TaskID == "" {
		w.TaskID = w.TaskIDSnake
	}
	if w.TaskID == "" {
		return Record{}, fmt.Errorf("record has no taskId")
	}
	urls, err := resultURLs(w.ResultJSON)
	if err != nil {
		return Record{}, fmt.Errorf("resultJson: %w", err)
	}
	credits := float64(w.CreditsConsumed)
	if credits == 0 {
		credits = float64(w.ConsumeCredits)
	}
	return Record{
		TaskID:          w.TaskID,
		Model:           w.Model,
		State:           State(strings.ToLower(strings.TrimSpace(w.State))),
		ResultURLs:      urls,
		FailCode:        string(w.FailCode),
		FailMsg:         string(w.FailMsg),
		CostTime:        int64(w.CostTime),
		CreditsConsumed: credits,
		CreateTime:      int64(w.CreateTime),
		CompleteTime:    int64(w.CompleteTime),
	}, nil
}

// resultURLs parses resultJson, which is a JSON document encoded as a JSON string ("" or null while
// the task runs). An object in its place is accepted too, in case KIE ever stops double-encoding.
func resultURLs(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	doc := []byte(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		doc = []byte(s)
	}
	var res struct {
		ResultURLs []string `json:"resultUrls"`
	}
	if err := json.Unmarshal(doc, &res); err != nil {
		return nil, err
	}
	return res.ResultURLs, nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// scalar decodes a string, a number, a bool or null into a string (failCode arrives as all of them).
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("kie: want a scalar, got %.20s", b)
	default:
		*s = scalar(b)
	}
	return nil
}

// number decodes a JSON number, a numeric string or null (null and "" are 0).
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	var s scalar
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return fmt.Errorf("kie: want a number, got %q", string(s))
	}
	*n = number(f)
	return nil
}

// envelope is the wrapper around every API answer: {"code":200,"msg":"success","data":…}. Some
// pages say "message" instead of "msg"; the upload host adds "success".
type envelope struct {
	Code    *number         `json:"code"`
	Msg     string          `json:"msg"`
	Message string          `json:"message"`
	Success *bool           `json:"success"`
	Data    json.RawMessage `json:"data"`
}

func (e envelope) code() int {
	if e.Code == nil {
		return 0
	}
	return int(*e.Code)
}

func (e envelope) msg() string {
	if e.Msg != "" {
		return e.Msg
	}
	return e.Message
}

func (e envelope) ok() bool {
	return e.Code != nil && *e.Code == 200 && (e.Success == nil || *e.Success)
}
