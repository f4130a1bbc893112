package kie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sony/gobreaker/v2"

	"neurocards/metrics"
)

// CreateTask starts a market task and returns its id. It first waits for the createTask rate
// limiter, as long as ctx allows; callbackURL may be empty.
func (c *Client) CreateTask(ctx context.Context, model string, input map[string]any, callbackURL string) (string, error) {
	const op = "create task"
	body, err := json.Marshal(struct {
		Model       string         `json:"model"`
		CallBackURL string         `json:"callBackUrl,omitempty"`
		Input       map[string]any `json:"input"`
	}{model, callbackURL, input})
	if err != nil {
		return "", &Error{Op: op, Msg: "input does not encode", Err: err, local: true}
	}
	// An open breaker would refuse the call anyway; don't spend a rate token or wait for one.
	if c.breaker.State() == gobreaker.StateOpen {
		c.metrics.Rejected(metrics.KIE, method(op))
		return "", &Error{Op: op, Err: gobreaker.ErrOpenState}
	}
	if err := c.waitCreate(ctx); err != nil {
		if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
			// rate.Wait refuses up front when the wait would outlast the deadline.
			err = fmt.Errorf("%w: %v", errRateLimited, err)
		}
		return "", &Error{Op: op, Err: err}
	}
	// Once sent, KIE may create (and bill) the task even if we stop listening: the call is not
	// cancelled with ctx, only bounded, so a job being stopped still learns the task id.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.createTimeout)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < c.createTimeout {
		cancel()
		callCtx, cancel = context.WithDeadline(context.WithoutCancel(ctx), d)
	}
	defer cancel()
	return guard(c, op, func() (string, error) {
		req, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.apiURL+"/api/v1/jobs/createTask", bytes.NewReader(body))
		if err != nil {
			return "", &Error{Op: op, Err: err, local: true}
		}
		req.Header.Set("Content-Type", "application/json")
		data, err := c.do(op, req)
		if err != nil {
			return "", err
		}
		return taskID(data)
	})
}

// taskID reads the task id out of createTask's data.
func taskID(data json.RawMessage) (string, error) {
	var out struct {
		TaskID scalar `json:"taskId"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.TaskID == "" {
		return "", &Error{Op: "create task", Msg: "answer has no taskId", Err: err}
	}
	return string(out.TaskID), nil
}

// RecordInfo returns the task's current record. An unknown (or not yet visible) task is an
// *Error with Code 422 and Msg "recordInfo is null".
func (c *Client) RecordInfo(ctx context.Context, taskID string) (Record, error) {
	const op = "record info"
	return guard(c, op, func() (Record, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.apiURL+"/api/v1/jobs/recordInfo?taskId="+url.QueryEscape(taskID), nil)
		if err != nil {
			return Record{}, &Error{Op: op, Err: err, local: true}
		}
		data, err := c.do(op, req)
		if err != nil {
			return Record{}, err
		}
		rec, err := decodeRecord(data)
		if err != nil {
			return Record{}, &Error{Op: op, Msg: "bad record", Err: err}
		}
		return rec, nil
	})
}

// Credit returns the account's credit balance. It is also the cheapest way to check the key.
func (c *Client) Credit(ctx context.Context) (float64, error) {
	const op = "credit"
	return guard(c, op, func() (float64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.apiURL+"/api/v1/chat/credit", nil)
		if err != nil {
			return 0, &Error{Op: op, Err: err, local: true}
		}
		data, err := c.do(op, req)
		if err != nil {
			return 0, err
		}
		var n number
		if isNull(data) {
			return 0, &Error{Op: op, Msg: "answer has no balance"}
		}
		if err := json.Unmarshal(data, &n); err != nil {
			return 0, &Error{Op: op, Msg: "balance is not a number", Err: err}
		}
		return float64(n), nil
	})
}

// waitCreate waits for the createTask budget, when this client paces createTask itself.
func (c *Client) waitCreate(ctx context.Context) error {
	if c.create == nil {
		return nil
	}
	return c.create.Wait(ctx)
}
