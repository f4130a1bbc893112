// Package operator reads the operator commands typed in Telegram (/grant, /user, /stats,
// /refund, /refundstars) and words their answers. It decides nothing about money: a command that
// moves credits becomes a messages.OperatorCommand for the seller's session — the same path the
// dashboard's forms take — and its messages.OperatorResult is worded here.
package operator

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"neurocards/texts"
)

// Limits on what an operator may type, so an answer that echoes it always fits in a Telegram
// message (4096 characters) and a seller's notice with the reason does too.
const (
	MaxArgs   = 512 // bytes of arguments after the command
	MaxReason = 200 // characters of a grant's reason
	// MaxAmount bounds one grant either way; the store bounds balances.
	MaxAmount = 1_000_000
)

// Command is an operator command as typed.
type Command struct {
	Name   string // grant, user, stats, refund, refundstars
	Seller int64
	Amount int64
	Reason string
	JobID  uint64
	Charge string
}

var names = map[string]bool{"grant": true, "user": true, "stats": true, "refund": true, "refundstars": true}

// Parse reads an operator command from a message's text: cmd and arg as split by the
// conversation. ok is false when it is not an operator command at all; a malformed one returns
// the text that explains its use (usage != "").
func Parse(cmd, arg string) (c Command, usage texts.Key, ok bool) {
	if !names[cmd] {
		return Command{}, "", false
	}
	c.Name = cmd
	if len(arg) > MaxArgs {
		return c, texts.AdminTooLong, true
	}
	f := strings.Fields(arg)
	switch cmd {
	case "grant":
		if len(f) < 2 {
			return c, texts.AdminGrantUsage, true
		}
		seller, err1 := strconv.ParseInt(f[0], 10, 64)
		amount, err2 := ParseAmount(f[1])
		if err1 != nil || seller <= 0 || err2 != nil || amount == 0 {
			return c, texts.AdminGrantUsage, true
		}
		if amount > MaxAmount || amount < -MaxAmount {
			return c, texts.AdminOutOfRange, true
		}
		c.Seller, c.Amount = seller, amount
		c.Reason = strings.Join(f[2:], " ")
		if utf8.RuneCountInString(c.Reason) > MaxReason {
			return c, texts.AdminTooLong, true
		}
	case "user":
		id, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || id <= 0 {
			return c, texts.AdminUserUsage, true
		}
		c.Seller = id
	case "refund":
		id, err := strconv.ParseUint(strings.TrimPrefix(arg, "#"), 10, 64)
		if err != nil || id == 0 {
			return c, texts.AdminRefundUsage, true
		}
		c.JobID = id
	case "refundstars":
		if len(f) == 0 {
			return c, texts.AdminStarsUsage, true
		}
		c.Charge = f[0]
	}
	return c, "", true
}

// ParseAmount reads a signed whole number of credits: "5", "+5", "-5". Anything else — "+-5",
// "--5", "5.0", spaces — is refused rather than guessed at.
func ParseAmount(s string) (int64, error) {
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-")
	if len(s)-len(digits) > 1 || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
}
