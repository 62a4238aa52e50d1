package experiments

import (
	"errors"

	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
)

// timelineFocus is what the timeline of a run that broke a history
// invariant centres on: the messages of its earliest violation rather
// than the first events of the run.
type timelineFocus struct {
	ids  map[uint64]bool
	at   sim.Time
	what string
}

// or returns f, or the focus of err's earliest violation when f is nil
// and err is (or wraps) a *history.ViolationError.
func (f *timelineFocus) or(err error) *timelineFocus {
	var ve *history.ViolationError
	if f != nil || !errors.As(err, &ve) || len(ve.Report.Violations) == 0 {
		return f
	}
	first := ve.Report.Violations[0]
	for _, v := range ve.Report.Violations[1:] {
		if v.At < first.At {
			first = v
		}
	}
	nf := &timelineFocus{ids: map[uint64]bool{}, at: first.At, what: ve.Report.Checker + ": " + first.What}
	for _, id := range first.IDs {
		nf.ids[id] = true
	}
	return nf
}

// observer returns what the engine should feed: tl itself without a
// focus, else a filter that passes the focused messages' events (any
// message implementing history.Carrier with a focused id) and the node
// crashes, restarts, pauses and notes that happen between them, with a
// note marking the violation.
func (f *timelineFocus) observer(tl *results.Timeline, max int) sim.Observer {
	if f == nil {
		return tl
	}
	return &focusFilter{f: f, tl: tl, max: max}
}

type focusFilter struct {
	f       *timelineFocus
	tl      *results.Timeline
	max     int
	started bool
	noted   bool
	held    []sim.Event // node events since the last focused one
}

func (o *focusFilter) OnEvent(ev *sim.Event) {
	if c, ok := ev.Msg.(history.Carrier); ok {
		if !o.f.ids[c.HistoryID()] {
			return
		}
		if o.started {
			for i := range o.held {
				o.tl.OnEvent(&o.held[i])
			}
		}
		o.held = o.held[:0]
		o.started = true
		if !o.noted && ev.At >= o.f.at {
			o.noted = true
			o.tl.OnEvent(&sim.Event{At: ev.At, Kind: sim.KindNote, Node: ev.Node, From: sim.None, Cause: "violation: " + o.f.what})
		}
		o.tl.OnEvent(ev)
		return
	}
	switch ev.Kind {
	case sim.KindCrash, sim.KindRestart, sim.KindPause, sim.KindResume, sim.KindNote:
		if o.started && len(o.held) < o.max {
			o.held = append(o.held, *ev)
		}
	}
}
