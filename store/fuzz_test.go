package store

import "testing"

// FuzzChargeBackKeys: a charge-back key belongs to exactly one charge id and one attempt,
// whatever the ids hold (':' included, one a prefix of another).
func FuzzChargeBackKeys(f *testing.F) {
	f.Add("C", "C:1", "900", false)
	f.Add("C:1", "C", "900", true)
	f.Add("C", "C:undo", "undo", true)
	f.Add("C:1:undo", "C", "7", false)
	f.Add("", ":", "1", false)
	f.Fuzz(func(t *testing.T, charge, other, attempt string, undo bool) {
		if !validAttempt(attempt) {
			return
		}
		key := chargeBackKey(charge, attempt)
		if undo {
			key += undoSuffix
		}
		a, u, ok := chargeBackOf(charge, key)
		if !ok || a != attempt || u != undo {
			t.Fatalf("%q read for its own charge %q: attempt %q undo %v ok %v", key, charge, a, u, ok)
		}
		if other == charge {
			return
		}
		if a, u, ok := chargeBackOf(other, key); ok {
			t.Fatalf("%q (charge %q) read as charge %q's: attempt %q undo %v", key, charge, other, a, u)
		}
	})
}
