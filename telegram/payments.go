package telegram

import (
	"context"
	"strings"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Stars is the currency of digital goods in Telegram: whole Stars, no payment provider.
const Stars = "XTR"

// Invoice is a Telegram Stars invoice for one thing at one price.
type Invoice struct {
	Title       string // 1–32 characters
	Description string // 1–255 characters
	Payload     string // 1–128 bytes; comes back in pre_checkout_query and successful_payment
	Label       string // the one price line
	Stars       int
}

// SendInvoice puts a Stars invoice in the chat and returns its message id. The provider token is
// empty, as Stars require.
func (g *Gateway) SendInvoice(ctx context.Context, chatID int64, inv Invoice) (int, error) {
	var msg *models.Message
	err := g.do(ctx, "sendInvoice", chatID, true, func(ctx context.Context) error {
		var err error
		msg, err = g.bot.SendInvoice(ctx, &bot.SendInvoiceParams{
			ChatID: chatID, Title: inv.Title, Description: inv.Description, Payload: inv.Payload,
			Currency: Stars, Prices: []models.LabeledPrice{{Label: inv.Label, Amount: inv.Stars}},
		})
		return err
	})
	if err != nil {
		return 0, err
	}
	return msg.ID, nil
}

// AnswerPreCheckout confirms a pre_checkout_query when refusal is empty, or declines it with
// refusal shown to the buyer. Telegram cancels the payment if this does not arrive within 10 s,
// so a 429 is not waited out.
func (g *Gateway) AnswerPreCheckout(ctx context.Context, queryID, refusal string) error {
	return g.do(ctx, "answerPreCheckoutQuery", 0, false, func(ctx context.Context) error {
		_, err := g.bot.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{
			PreCheckoutQueryID: queryID, OK: refusal == "", ErrorMessage: refusal,
		})
		return err
	})
}

// RefundStarPayment gives the buyer back the Stars of one successful payment.
func (g *Gateway) RefundStarPayment(ctx context.Context, userID int64, chargeID string) error {
	return g.do(ctx, "refundStarPayment", 0, true, func(ctx context.Context) error {
		_, err := g.bot.RefundStarPayment(ctx, &bot.RefundStarPaymentParams{UserID: userID, TelegramPaymentChargeID: chargeID})
		return err
	})
}

// IsAlreadyRefunded reports Telegram's answer to a second refund of the same payment.
func IsAlreadyRefunded(err error) bool {
	return err != nil && strings.Contains(err.Error(), "CHARGE_ALREADY_REFUNDED")
}

// Command is one entry of the bot's command menu.
type Command struct {
	Name        string // 1–32 of a-z, 0-9, _
	Description string // 1–256 characters
}

// SetCommands sets the command menu shown to users whose Telegram is in lang ("" for everyone
// else).
func (g *Gateway) SetCommands(ctx context.Context, lang string, cmds []Command) error {
	list := make([]models.BotCommand, 0, len(cmds))
	for _, c := range cmds {
		list = append(list, models.BotCommand{Command: c.Name, Description: c.Description})
	}
	return g.do(ctx, "setMyCommands", 0, true, func(ctx context.Context) error {
		_, err := g.bot.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: list, LanguageCode: lang})
		return err
	})
}
