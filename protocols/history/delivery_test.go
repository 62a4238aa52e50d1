package history

import (
	"errors"
	"slices"
	"testing"

	"github.com/dsim-dev/dsim/sim"
)

// script builds a history from compact steps.
type step struct {
	kind    Kind
	id      uint64
	at      sim.Time
	key     uint64
	value   int64
	outcome sim.Outcome
}

func build(steps []step) *History {
	h := New(Config{Enabled: true})
	for _, s := range steps {
		h.Record(Op{ID: s.id, Process: 1, Peer: 2, Kind: s.kind, Key: s.key, Value: s.value,
			Invoke: s.at, Complete: s.at, Outcome: s.outcome})
	}
	return h
}

func TestDeliveryCheckers(t *testing.T) {
	// One message that went well: submit, send, deliver, apply, ack.
	good := func(id uint64, at sim.Time, seq int64) []step {
		return []step{{Submit, id, at, 7, seq, 0}, {Send, id, at, 7, seq, 0}, {Deliver, id, at + 1, 7, seq, 0},
			{Apply, id, at + 1, 7, seq, 0}, {Ack, id, at + 2, 7, seq, sim.OK}}
	}
	cat := func(parts ...[]step) []step { return slices.Concat(parts...) }
	tests := []struct {
		name  string
		steps []step
		opts  DeliveryOptions
		check func(*History, DeliveryOptions) Report
		want  Verdict
		ids   []uint64
		at    sim.Time
	}{
		{"lost/none", cat(good(1, 10, 1), good(2, 20, 2)), DeliveryOptions{}, CheckLost, Pass, nil, 0},
		{"lost/sent never applied", cat(good(1, 10, 1), []step{{Submit, 2, 20, 7, 2, 0}, {Send, 2, 21, 7, 2, 0}}), DeliveryOptions{}, CheckLost, Fail, []uint64{2}, 20},
		{"lost/submitted never sent", []step{{Submit, 3, 5, 7, 1, 0}}, DeliveryOptions{}, CheckLost, Fail, []uint64{3}, 5},
		{"lost/after deadline is not lost", []step{{Submit, 3, 50, 7, 1, 0}}, DeliveryOptions{Deadline: 40}, CheckLost, Pass, nil, 0},
		{"lost/before deadline is lost", []step{{Submit, 3, 30, 7, 1, 0}}, DeliveryOptions{Deadline: 40}, CheckLost, Fail, []uint64{3}, 30},
		{"lost/give-up excused", []step{{Submit, 4, 5, 7, 1, 0}, {Ack, 4, 9, 7, 1, sim.TimedOut}}, DeliveryOptions{ExcuseGiveUps: true}, CheckLost, Pass, nil, 0},
		{"lost/give-up not excused", []step{{Submit, 4, 5, 7, 1, 0}, {Ack, 4, 9, 7, 1, sim.TimedOut}}, DeliveryOptions{}, CheckLost, Fail, []uint64{4}, 5},
		{"lost/acked but not applied", []step{{Submit, 5, 5, 7, 1, 0}, {Ack, 5, 9, 7, 1, sim.OK}}, DeliveryOptions{ExcuseGiveUps: true}, CheckLost, Fail, []uint64{5}, 5},
		{"dup/none", cat(good(1, 10, 1), good(2, 20, 2)), DeliveryOptions{}, CheckDuplicates, Pass, nil, 0},
		{"dup/applied twice", cat(good(1, 10, 1), []step{{Apply, 1, 30, 7, 1, 0}, {Apply, 1, 40, 7, 1, 0}}), DeliveryOptions{}, CheckDuplicates, Fail, []uint64{1}, 30},
		{"order/in order", cat(good(1, 10, 1), good(2, 20, 2), good(3, 30, 3)), DeliveryOptions{}, CheckOrder, Pass, nil, 0},
		{"order/other channel independent", cat(good(1, 10, 1), []step{{Apply, 2, 20, 8, 1, 0}}), DeliveryOptions{}, CheckOrder, Pass, nil, 0},
		{"order/reordered", cat(good(1, 10, 1), []step{{Apply, 3, 20, 7, 3, 0}, {Apply, 2, 30, 7, 2, 0}}), DeliveryOptions{}, CheckOrder, Fail, []uint64{1, 3}, 20},
		{"order/replayed", cat(good(1, 10, 1), good(2, 20, 2), []step{{Apply, 1, 30, 7, 1, 0}}), DeliveryOptions{}, CheckOrder, Fail, []uint64{1, 2}, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.check(build(tt.steps), tt.opts)
			if r.Verdict != tt.want {
				t.Fatalf("verdict %v, want %v (%+v)", r.Verdict, tt.want, r)
			}
			if tt.want != Fail {
				if r.Err() != nil {
					t.Fatalf("pass with error %v", r.Err())
				}
				return
			}
			var ve *ViolationError
			if !errors.As(r.Err(), &ve) {
				t.Fatalf("error %v is not a ViolationError", r.Err())
			}
			if got := r.Violations[0].IDs; !slices.Equal(got, tt.ids) {
				t.Fatalf("ids %v, want %v", got, tt.ids)
			}
			if ve.First() != tt.at {
				t.Fatalf("first at %v, want %v", ve.First(), tt.at)
			}
		})
	}
}

func TestDeliveryCheckersUndecided(t *testing.T) {
	off := New(Config{})
	full := New(Config{Enabled: true, MaxOps: 1})
	full.Event(1, 1, 2, Submit, 0, 0, 0)
	full.Event(1, 1, 2, Send, 0, 0, 0)
	for _, h := range []*History{off, full} {
		for _, c := range DeliveryCheckers(NoLoss|NoDuplicates|InOrder, DeliveryOptions{}) {
			if r := c.Check(h); r.Verdict != Unknown || !errors.Is(r.Err(), ErrUnknown) {
				t.Fatalf("%s on incomplete history: %v", c.Name, r.Verdict)
			}
		}
	}
}

func TestDeliveryCheckersDeclareTheirGuarantee(t *testing.T) {
	for _, g := range []Guarantee{0, NoDuplicates, NoLoss, NoLoss | NoDuplicates, NoLoss | NoDuplicates | InOrder} {
		var got Guarantee
		for _, c := range DeliveryCheckers(g, DeliveryOptions{}) {
			got |= c.Guarantee
		}
		if got != g {
			t.Fatalf("checkers for %v cover %v", g, got)
		}
	}
	if s := (NoLoss | InOrder).String(); s != "no_loss+in_order" {
		t.Fatalf("string %q", s)
	}
}

// BenchmarkDeliveryCheckers measures the three checkers over one million
// history entries (200,000 messages of five steps each, one in a hundred
// applied twice). ns/op is the cost per 1M entries.
func BenchmarkDeliveryCheckers(b *testing.B) {
	h := New(Config{Enabled: true, MaxOps: 2_000_000})
	for id := uint64(1); h.Len() < 1_000_000; id++ {
		at := sim.Time(id * 1000)
		seq := int64(id)
		h.Event(id, 1, 2, Submit, 7, seq, at)
		h.Event(id, 1, 2, Send, 7, seq, at)
		h.Event(id, 2, 1, Deliver, 7, seq, at+10)
		h.Event(id, 2, 1, Apply, 7, seq, at+10)
		if id%100 == 0 {
			h.Event(id, 2, 1, Apply, 7, seq, at+20)
		} else {
			h.Event(id, 1, 2, Ack, 7, seq, at+30)
		}
	}
	cs := DeliveryCheckers(NoLoss|NoDuplicates|InOrder, DeliveryOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, c := range cs {
			c.Check(h)
		}
	}
}
