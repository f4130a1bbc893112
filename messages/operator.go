package messages

// OperatorOp names what an operator asks of one seller's account.
type OperatorOp string

const (
	// OpGrant adds Amount credits (negative takes them away, never below what jobs in flight hold),
	// as one adjust row with Reason.
	OpGrant OperatorOp = "grant"
	// OpRefund gives back what job JobID cost: a job in flight is cancelled and its hold released;
	// a delivered job's price comes back as one adjust row.
	OpRefund OperatorOp = "refund"
	// OpCancel stops job JobID if it is still in flight and releases its hold; it refuses a job
	// that already ended.
	OpCancel OperatorOp = "cancel"
	// OpChargeBack takes back the credits of the payment Charge before its Stars are refunded
	// (Key names the try); OpUndoChargeBack gives them back when Telegram refused the refund.
	OpChargeBack     OperatorOp = "chargeback"
	OpUndoChargeBack OperatorOp = "undo_chargeback"
)

// OperatorCommand is an operator's action on a seller, from Telegram (/grant, /refund) or the
// dashboard. It travels through the router to the seller's session — the only writer of that
// seller's state — which answers on Reply. Seller may be 0 when JobID names the job: the router
// finds its owner.
type OperatorCommand struct {
	Op     OperatorOp
	By     int64 // the operator's Telegram id; 0 for the dashboard
	Seller int64
	JobID  uint64
	Amount int64
	Charge string // a Telegram payment charge id, for charge-backs
	Reason string
	// Key makes the action idempotent: the same key twice does it once (OperatorDuplicate).
	Key   string
	Reply chan<- OperatorResult // buffered by the sender; the session never blocks on it
}

// OperatorStatus is how an operator's command ended.
type OperatorStatus string

const (
	OperatorDone            OperatorStatus = "done"
	OperatorDuplicate       OperatorStatus = "duplicate"        // the same Key was used before: nothing changed
	OperatorNoSeller        OperatorStatus = "no_seller"        // nobody with that id ever wrote to the bot
	OperatorNoJob           OperatorStatus = "no_job"           // no such job (or not this seller's)
	OperatorNoPurchase      OperatorStatus = "no_purchase"      // no payment with that charge id
	OperatorInsufficient    OperatorStatus = "insufficient"     // would take available credits below zero
	OperatorOutOfRange      OperatorStatus = "out_of_range"     // the amount or the resulting balance is beyond the bounds
	OperatorAlreadyReleased OperatorStatus = "already_released" // a failed job: its credits went back when it failed
	OperatorNotInFlight     OperatorStatus = "not_in_flight"    // cancel of a job that already ended
	OperatorFailed          OperatorStatus = "failed"           // our side failed; Detail says why, for the operator
)

// OperatorResult is what the seller's session did with an OperatorCommand.
type OperatorResult struct {
	Status    OperatorStatus
	Balance   int64  // the seller's balance after
	Held      int64  // credits held by their jobs in flight after
	Row       uint64 // the ledger row written, if any
	Amount    int64  // the row's change to the balance
	Released  bool   // a refund cancelled a job in flight (rather than adjusting a delivered one)
	Job       *Job   // the job a refund or cancel acted on, as it is now
	Detail    string
	SellerID  int64
	SellerLng string // the seller's language, for whoever tells them
}
