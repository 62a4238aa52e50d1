package history

import (
	"errors"
	"testing"

	"github.com/dsim-dev/dsim/sim"
)

func TestDisabledKeepsNothing(t *testing.T) {
	h := New(Config{})
	for i := 0; i < 1000; i++ {
		r := h.Invoke(uint64(i), 1, Write, 0, int64(i), sim.Time(i))
		h.Complete(r, sim.OK, 0, 0, sim.Time(i+1))
	}
	if h.Len() != 0 || h.Full() {
		t.Fatalf("disabled history kept %d ops, full=%v", h.Len(), h.Full())
	}
}

func TestMaxOpsTruncates(t *testing.T) {
	h := New(Config{Enabled: true, MaxOps: 3})
	for i := 0; i < 5; i++ {
		h.Event(uint64(i), 0, 1, Send, 0, 0, sim.Time(i))
	}
	if h.Len() != 3 || !h.Truncated() || h.Full() {
		t.Fatalf("len %d truncated %v full %v", h.Len(), h.Truncated(), h.Full())
	}
}

func TestInvokeComplete(t *testing.T) {
	h := New(Config{Enabled: true})
	w := h.Invoke(1, 2, Write, 7, 42, 10)
	r := h.Invoke(2, 3, Read, 7, 0, 11)
	if h.Op(w).Done() {
		t.Fatal("pending op reported done")
	}
	h.Complete(w, sim.OK, 0, 5, 20)
	h.Complete(r, sim.OK, 42, 5, 21)
	if op := h.Op(w); op.Complete != 20 || op.Value != 42 || op.Version != 5 {
		t.Fatalf("write %+v", *op)
	}
	if op := h.Op(r); op.Value != 42 || op.Outcome != sim.OK {
		t.Fatalf("read %+v", *op)
	}
	h.Complete(0, sim.OK, 0, 0, 0) // zero Ref ignored
}

func TestReportErr(t *testing.T) {
	var r Report
	r.Checker = "no_duplicates"
	if r.Err() != nil {
		t.Fatal("pass gave an error")
	}
	r.Add(Violation{IDs: []uint64{9, 3}, At: 50, What: "message 3 applied twice"})
	r.Add(Violation{IDs: []uint64{3}, At: 20, What: "again"})
	var ve *ViolationError
	if !errors.As(r.Err(), &ve) {
		t.Fatalf("fail is not a ViolationError: %v", r.Err())
	}
	if got := ve.IDs(); len(got) != 2 || got[0] != 3 || got[1] != 9 {
		t.Fatalf("ids %v", got)
	}
	if ve.First() != 20 {
		t.Fatalf("first %d", ve.First())
	}
	u := Report{Checker: "x", Verdict: Unknown, Reason: "history truncated"}
	if !errors.Is(u.Err(), ErrUnknown) {
		t.Fatal("unknown does not wrap ErrUnknown")
	}
}
