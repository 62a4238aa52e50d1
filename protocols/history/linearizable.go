package history

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/dsim-dev/dsim/sim"
)

// CheckerLinearizable names the linearizability checker in reports.
const CheckerLinearizable = "linearizable"

// DefaultLinearizableBudget is the time budget of CheckLinearizable when
// it is given none.
const DefaultLinearizableBudget = 10 * time.Second

// regInput is one register operation as the sequential model sees it.
type regInput struct {
	kind   Kind
	value  int64 // written value, or the value a read returned
	expect int64 // CAS: the value it must replace
	known  bool  // the outcome is known (false: timed out or pending)
}

// registerModel is the sequential specification of one key: a register
// holding an int64 (0 before the first write). A read must return the
// current value; a write sets it; a successful CAS requires the current
// value to be the one it expected. An operation whose outcome is unknown
// (timed out, or still pending when the run ended) returns at infinity,
// so the checker may linearize it last, which is the same as "it never
// took effect"; where it is linearized earlier a CAS applies only if its
// condition holds.
var registerModel = porcupine.Model{
	Init: func() any { return int64(0) },
	Step: func(state, input, _ any) (bool, any) {
		s := state.(int64)
		in := input.(regInput)
		switch in.kind {
		case Read:
			return s == in.value, s
		case Write:
			return true, in.value
		case CAS:
			if s == in.expect {
				return true, in.value
			}
			return !in.known, s
		}
		return false, s
	},
	DescribeOperation: func(input, _ any) string {
		in := input.(regInput)
		switch in.kind {
		case CAS:
			return fmt.Sprintf("cas(%d→%d)", in.expect, in.value)
		case Read:
			return fmt.Sprintf("read→%d", in.value)
		}
		return fmt.Sprintf("write(%d)", in.value)
	},
}

// CheckLinearizable checks, key by key, that the Read, Write and CAS
// operations of h are linearizable as a single register per key (the
// values written must be unique for the check to be meaningful). It uses
// porcupine (github.com/anishathalye/porcupine), a checker of the
// Wing–Gong/Lowe kind, on each key's sub-history in ascending key order.
//
// Operations that failed (certainly no effect) are left out; reads that
// did not succeed carry no information and are left out too; writes and
// CASes that timed out or were still pending may or may not have taken
// effect. budget bounds the wall-clock time of the check (0 means
// DefaultLinearizableBudget); when it runs out the verdict is Unknown,
// never a guess. A failing history is checked a second time, keeping
// partial linearizations, to name the keys at fault. A history that is disabled or truncated is
// Unknown. With enough budget the verdict is a function of the history
// alone.
func CheckLinearizable(h *History, budget time.Duration) Report {
	r := Report{Checker: CheckerLinearizable}
	if !h.Full() {
		r.Verdict, r.Reason = Unknown, incompleteReason(h)
		return r
	}
	if budget <= 0 {
		budget = DefaultLinearizableBudget
	}
	// A write whose outcome is unknown and whose value nobody observed
	// (no read returned it, no CAS expected it) can be taken as never
	// applied: if the rest is linearizable so is the whole, and such a
	// write can only make a linearization harder. Dropping them keeps
	// the search narrow when many writes time out (a partition).
	type kv struct {
		key uint64
		val int64
	}
	seen := map[kv]bool{}
	for i := range h.ops {
		op := &h.ops[i]
		switch {
		case op.Kind == Read && op.Done() && op.Outcome == sim.OK:
			seen[kv{op.Key, op.Value}] = true
		case op.Kind == CAS:
			seen[kv{op.Key, op.Expect}] = true
		}
	}
	byKey := map[uint64][]porcupine.Operation{}
	ids := map[uint64][]uint64{}
	for i := range h.ops {
		op := &h.ops[i]
		in, ok := regOp(op)
		if !ok || (!in.known && in.kind != Read && !seen[kv{op.Key, op.Value}]) {
			continue
		}
		ret := int64(op.Complete)
		if !in.known {
			ret = math.MaxInt64
		}
		byKey[op.Key] = append(byKey[op.Key], porcupine.Operation{
			ClientId: int(op.Process), Input: in, Call: int64(op.Invoke), Return: ret,
		})
		ids[op.Key] = append(ids[op.Key], op.ID)
	}
	keys := slices.Sorted(maps.Keys(byKey))
	var all [][]porcupine.Operation
	for _, k := range keys {
		all = append(all, byKey[k])
	}
	// One call checks every key (porcupine partitions the history by key
	// and checks the parts in parallel) within one budget. The budget is
	// wall-clock time by nature, measured by the checker library: it is
	// the only thing here that depends on the machine.
	model := registerModel
	model.Partition = func([]porcupine.Operation) [][]porcupine.Operation { return all }
	var flat []porcupine.Operation
	for _, ops := range all {
		flat = append(flat, ops...)
	}
	switch porcupine.CheckOperationsTimeout(model, flat, budget) {
	case porcupine.Ok:
		return r
	case porcupine.Unknown:
		r.Verdict = Unknown
		r.Reason = fmt.Sprintf("time budget %v ran out before %d operations on %d keys were decided", budget, len(flat), len(keys))
		return r
	}
	// Some key failed. One more call, which keeps the longest partial
	// linearization of every key, names the keys at fault within the
	// same budget: a key is linearizable when a partial covers all of
	// its operations.
	res, info := porcupine.CheckOperationsVerbose(model, flat, budget)
	if res == porcupine.Illegal {
		partials := info.PartialLinearizations()
		for i, k := range keys {
			ops := byKey[k]
			complete := false
			if i < len(partials) {
				for _, p := range partials[i] {
					complete = complete || len(p) == len(ops)
				}
			}
			if complete {
				continue
			}
			first := ops[0].Call
			for _, o := range ops {
				first = min(first, o.Call)
			}
			kid := slices.Clone(ids[k])
			slices.Sort(kid)
			if len(kid) > 8 {
				kid = kid[:8]
			}
			r.Add(Violation{IDs: kid, At: sim.Time(first), What: fmt.Sprintf("key %d: its %d operations admit no linearization", k, len(ops))})
		}
	}
	if r.Verdict != Fail {
		r.Add(Violation{What: fmt.Sprintf("%d operations on %d keys admit no linearization", len(flat), len(keys))})
	}
	return r
}

// regOp converts a recorded operation to the register model's input, or
// reports false if it carries no information for the check.
func regOp(op *Op) (regInput, bool) {
	known := op.Done() && op.Outcome == sim.OK
	switch op.Kind {
	case Read:
		if !known {
			return regInput{}, false
		}
		return regInput{kind: Read, value: op.Value, known: true}, true
	case Write, CAS:
		if op.Done() && op.Outcome == sim.Failed {
			return regInput{}, false
		}
		return regInput{kind: op.Kind, value: op.Value, expect: op.Expect, known: known}, true
	}
	return regInput{}, false
}

func incompleteReason(h *History) string {
	switch {
	case !h.Enabled():
		return "history recording is off"
	case h.Truncated():
		return fmt.Sprintf("history truncated at %d operations", h.Len())
	}
	return "incomplete history"
}
