package experiments

import (
	"errors"
	"fmt"
	"time"

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
// focus, else a filter that keeps the focused messages' events (any
// message implementing history.Carrier with a focused id) and the node
// crashes, restarts, pauses and notes that happen between them.
func (f *timelineFocus) observer(tl *results.Timeline, max int) sim.Observer {
	if f == nil {
		return tl
	}
	return &focusFilter{f: f, max: max}
}

// finishTimeline ends the timeline at the run's end, with the run's fault
// windows; for a focused timeline it first hands the kept events over,
// shifted so that the diagram spans the focused messages (plus a margin)
// rather than the whole run, and says so in a note.
func finishTimeline(obs sim.Observer, tl *results.Timeline, end sim.Time, windows []sim.Window) {
	ff, ok := obs.(*focusFilter)
	if !ok || len(ff.kept) == 0 {
		tl.Finish(end)
		tl.AddFaults(windows...)
		return
	}
	first, last := ff.kept[0].At, ff.kept[len(ff.kept)-1].At
	margin := max((last-first)/20, sim.Time(time.Millisecond))
	t0 := max(first-margin, 0)
	note := sim.Event{At: 0, Kind: sim.KindNote, Node: ff.kept[0].Node, From: sim.None,
		Cause: fmt.Sprintf("t=0 is %v into the run", t0)}
	tl.OnEvent(&note)
	for i := range ff.kept {
		ev := ff.kept[i]
		ev.At -= t0
		tl.OnEvent(&ev)
	}
	tl.Finish(min(last+margin, end) - t0)
	for _, w := range windows {
		if w.End > t0 && w.Start < last+margin {
			w.Start, w.End = max(w.Start-t0, 0), min(w.End, last+margin)-t0
			tl.AddFaults(w)
		}
	}
}

type focusFilter struct {
	f       *timelineFocus
	max     int
	started bool
	noted   bool
	held    []sim.Event // node events since the last focused one
	kept    []sim.Event // what the timeline will show, in order
}

func (o *focusFilter) keep(ev sim.Event) {
	if len(o.kept) < o.max {
		o.kept = append(o.kept, ev)
	}
}

func (o *focusFilter) OnEvent(ev *sim.Event) {
	if c, ok := ev.Msg.(history.Carrier); ok {
		if !o.f.ids[c.HistoryID()] {
			return
		}
		if o.started {
			for _, h := range o.held {
				o.keep(h)
			}
		}
		o.held = o.held[:0]
		o.started = true
		if !o.noted && ev.At >= o.f.at {
			o.noted = true
			o.keep(sim.Event{At: ev.At, Kind: sim.KindNote, Node: ev.Node, From: sim.None, Cause: "violation: " + o.f.what})
		}
		o.keep(*ev)
		return
	}
	switch ev.Kind {
	case sim.KindCrash, sim.KindRestart, sim.KindPause, sim.KindResume, sim.KindNote:
		if o.started && len(o.held) < o.max {
			o.held = append(o.held, *ev)
		}
	}
}
