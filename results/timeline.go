package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/dsim-dev/dsim/sim"
)

// Namer names the nodes of a run; *sim.Engine is one.
type Namer interface {
	NumNodes() int
	NodeName(id sim.NodeID) string
}

// TimelineConfig holds a timeline's parameters.
type TimelineConfig struct {
	// MaxEvents caps the events kept; later events are counted, not kept,
	// and the outputs say so. Timelines are for small runs: a sequence
	// diagram stops being readable long before the default 10,000.
	MaxEvents int `yaml:"max_events" json:"max_events"`
	// Timers includes timer firings in the outputs.
	Timers bool `yaml:"timers" json:"timers"`
}

// DefaultTimelineConfig keeps up to 10,000 events, timers excluded.
func DefaultTimelineConfig() TimelineConfig { return TimelineConfig{MaxEvents: 10_000} }

// Validate checks the config; paths use the YAML field names.
func (c TimelineConfig) Validate() error {
	var fe sim.FieldErrors
	if c.MaxEvents < 1 || c.MaxEvents > 1_000_000 {
		fe.Add("max_events", "must be between 1 and 1000000, got %d", c.MaxEvents)
	}
	return fe.Err()
}

// Timeline is a sim.Observer that keeps a small run's trace and renders it
// as a message sequence diagram (SVG) and as Chrome/Perfetto trace-event
// JSON. It keeps at most MaxEvents events (about 100 bytes each plus the
// messages they reference) and counts the rest.
type Timeline struct {
	cfg     TimelineConfig
	names   Namer
	events  []tlEvent
	dropped int64
	faults  []sim.Window
	end     sim.Time
	kept    sim.Time // time of the last kept event
	// Label names a message in the outputs. The default is the message's
	// String method if it has one, else its type name.
	Label func(sim.Message) string
}

type tlEvent struct {
	At    sim.Time
	Kind  sim.EventKind
	Node  sim.NodeID
	From  sim.NodeID
	Tag   uint64
	Msg   sim.Message
	Label string
	Cause string
}

var _ sim.Observer = (*Timeline)(nil)

// NewTimeline returns a timeline of the run whose nodes names names. It
// panics if cfg is invalid.
func NewTimeline(names Namer, cfg TimelineConfig) *Timeline {
	if err := cfg.Validate(); err != nil {
		panic("results: NewTimeline: " + err.Error())
	}
	return &Timeline{cfg: cfg, names: names}
}

// MessageLabel is the default Label: the message's String method if it
// has one, else its type name without the package.
func MessageLabel(m sim.Message) string {
	if m == nil {
		return ""
	}
	if s, ok := m.(fmt.Stringer); ok {
		return s.String()
	}
	t := reflect.TypeOf(m)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" {
		return t.Name()
	}
	return t.String()
}

// OnEvent records one event.
func (t *Timeline) OnEvent(ev *sim.Event) {
	switch ev.Kind {
	case sim.KindStart, sim.KindControl:
		return
	case sim.KindTimer:
		if !t.cfg.Timers {
			return
		}
	}
	if ev.At > t.end {
		t.end = ev.At
	}
	if len(t.events) >= t.cfg.MaxEvents {
		t.dropped++
		return
	}
	t.kept = ev.At
	e := tlEvent{At: ev.At, Kind: ev.Kind, Node: ev.Node, From: ev.From, Tag: ev.Tag, Msg: ev.Msg, Cause: ev.Cause}
	if ev.Msg != nil {
		label := t.Label
		if label == nil {
			label = MessageLabel
		}
		e.Label = label(ev.Msg)
	}
	t.events = append(t.events, e)
}

// AddFaults adds fault windows to shade.
func (t *Timeline) AddFaults(ws ...sim.Window) {
	t.faults = append(t.faults, ws...)
	sim.SortWindows(t.faults)
}

// Finish sets the run's end time, which bounds the diagram.
func (t *Timeline) Finish(end sim.Time) {
	if end > t.end {
		t.end = end
	}
}

// Len returns the number of events kept.
func (t *Timeline) Len() int { return len(t.events) }

// Dropped returns the number of events not kept because of MaxEvents.
func (t *Timeline) Dropped() int64 { return t.dropped }

// arrow is a message matched from its send to its fate.
type arrow struct {
	send  int // index of the send event, -1 if unknown
	to    int // index of the deliver or drop event, -1 if still in flight
	from  sim.NodeID
	dst   sim.NodeID
	label string
	drop  bool
}

// sameMsg compares two messages without panicking on incomparable types.
func sameMsg(a, b sim.Message) bool {
	if a == nil || b == nil {
		return false
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// arrows matches each delivery and drop to the send it came from: the
// oldest unmatched send on the same link carrying an equal message (the
// same pointer, or an equal value), else the oldest unmatched send on the
// link with the same label. A second delivery of an already delivered
// send (a duplicate) reuses it.
func (t *Timeline) arrows() []arrow {
	type link struct{ from, to sim.NodeID }
	pending := map[link][]int{} // arrow indexes of sends, oldest first
	var out []arrow
	matched := map[int]bool{}
	find := func(l link, ev *tlEvent) int {
		cands := pending[l]
		for _, strict := range []bool{true, false} {
			for _, ai := range cands {
				if matched[ai] {
					continue
				}
				s := &t.events[out[ai].send]
				if strict && sameMsg(s.Msg, ev.Msg) || !strict && s.Label == ev.Label {
					return ai
				}
			}
		}
		// A duplicate: the latest matched send with the same message.
		for k := len(cands) - 1; k >= 0; k-- {
			ai := cands[k]
			s := &t.events[out[ai].send]
			if sameMsg(s.Msg, ev.Msg) || s.Label == ev.Label {
				return -2 - ai
			}
		}
		return -1
	}
	for i := range t.events {
		ev := &t.events[i]
		switch ev.Kind {
		case sim.KindSend:
			l := link{ev.From, ev.Node}
			pending[l] = append(pending[l], len(out))
			out = append(out, arrow{send: i, to: -1, from: ev.From, dst: ev.Node, label: ev.Label})
		case sim.KindDeliver, sim.KindDrop:
			l := link{ev.From, ev.Node}
			ai := find(l, ev)
			drop := ev.Kind == sim.KindDrop
			switch {
			case ai >= 0:
				out[ai].to, out[ai].drop = i, drop
				matched[ai] = true
				// Compact the front of the pending list.
				ps := pending[l]
				for len(ps) > 0 && matched[ps[0]] && len(ps) > 64 {
					ps = ps[1:]
				}
				pending[l] = ps
			case ai <= -2:
				out = append(out, arrow{send: out[-2-ai].send, to: i, from: ev.From, dst: ev.Node, label: ev.Label, drop: drop})
			default:
				out = append(out, arrow{send: -1, to: i, from: ev.From, dst: ev.Node, label: ev.Label, drop: drop})
			}
		}
	}
	return out
}

func (t *Timeline) nodeName(id sim.NodeID) string {
	if t.names != nil {
		if n := t.names.NodeName(id); n != "" {
			return n
		}
	}
	return "node" + strconv.Itoa(int(id))
}

func (t *Timeline) numNodes() int {
	n := 0
	if t.names != nil {
		n = t.names.NumNodes()
	}
	for _, e := range t.events {
		if int(e.Node)+1 > n {
			n = int(e.Node) + 1
		}
		if int(e.From)+1 > n {
			n = int(e.From) + 1
		}
	}
	return n
}

// Diagram geometry, in SVG user units (px).
const (
	tlLeft   = 90  // room for the time axis
	tlTop    = 96  // room for the note, the legend and the node names
	tlColW   = 140 // distance between lifelines
	tlBottom = 50
)

// WriteSVG renders the message sequence diagram: one vertical lifeline per
// node (dashed while crashed, thick grey while paused), time flowing down,
// an arrow per message from its send to its delivery, a red cross where a
// message was dropped, and fault windows shaded across the diagram. A
// note and a legend of the line styles head the diagram. When events
// were dropped, the time axis ends at the last kept event, and messages
// still in flight there are cut at the axis edge with a marker.
func (t *Timeline) WriteSVG(w io.Writer) error {
	fr := t.frame()
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", fr.width, fr.height, fr.width, fr.height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>` + "\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", fr.width, fr.height)
	t.svgNote(&b, fr)
	t.svgLegend(&b)
	t.svgFaults(&b, fr)
	svgAxis(&b, fr)
	t.svgLifelines(&b, fr)
	t.svgMessages(&b, fr)
	t.svgMarks(&b, fr)
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// svgFrame is the geometry of a sequence diagram.
type svgFrame struct {
	nodes         int      // lifelines
	end           sim.Time // the time at the bottom of the axis
	axisH         int      // the axis' length
	width, height int
}

// frame lays the diagram out: a column per node, 14 px per kept event
// (400 to 4000 px) for the time axis, which ends at the end of the run,
// or at the last kept event when later ones were dropped.
func (t *Timeline) frame() svgFrame {
	fr := svgFrame{nodes: max(t.numNodes(), 1), end: t.end}
	if t.dropped > 0 {
		fr.end = t.kept
	}
	if fr.end <= 0 {
		fr.end = 1
	}
	fr.width = max(tlLeft+fr.nodes*tlColW, 940) // the legend needs about 940
	fr.axisH = max(400, min(14*len(t.events), 4000))
	fr.height = tlTop + fr.axisH + tlBottom
	return fr
}

// y is the vertical position of time at.
func (fr svgFrame) y(at sim.Time) float64 {
	return tlTop + float64(at)/float64(fr.end)*float64(fr.axisH)
}

// x is the position of node id's lifeline.
func (fr svgFrame) x(id sim.NodeID) float64 { return tlLeft + tlColW/2 + float64(id)*tlColW }

// svgNote writes the note, first, where it is seen: what the diagram
// shows, and whether it was truncated.
func (t *Timeline) svgNote(b *bytes.Buffer, fr svgFrame) {
	note := fmt.Sprintf("%d events over %v of simulated time", len(t.events), fr.end)
	if t.dropped > 0 {
		note = fmt.Sprintf("Truncated: the first %d events, up to %v, are shown; %d later events (to %v) were not kept (max_events %d).",
			len(t.events), fr.end, t.dropped, t.end, t.cfg.MaxEvents)
	}
	fmt.Fprintf(b, `<text class="note" x="8" y="18" font-size="12" font-weight="bold" fill="%s">%s</text>`+"\n",
		map[bool]string{true: "#D55E00", false: "#333"}[t.dropped > 0], html.EscapeString(note))
}

// svgLegend writes the legend of the line styles, in a row under the
// note.
func (t *Timeline) svgLegend(b *bytes.Buffer) {
	lx := 8.0
	item := func(draw, label string) {
		fmt.Fprintf(b, `<g class="legend" transform="translate(%.0f,36)">%s<text x="34" y="4" fill="#333">%s</text></g>`+"\n", lx, draw, html.EscapeString(label))
		lx += 40 + 6.2*float64(len(label))
	}
	item(`<line x1="0" y1="0" x2="28" y2="0" stroke="#333" stroke-width="1.2" marker-end="url(#arrow)"/>`, "message delivered")
	item(`<line x1="0" y1="0" x2="22" y2="0" stroke="#333" stroke-width="1.2" stroke-dasharray="3 3"/><path d="M22,-5 l4,5 l-4,5 M26,-5 l4,5 l-4,5" fill="none" stroke="#333" stroke-width="1.2"/>`, "in flight at the end (cut)")
	item(`<line x1="0" y1="0" x2="18" y2="0" stroke="#333" stroke-width="1.2"/><path d="M14,-4 l8,8 M22,-4 l-8,8" stroke="#D55E00" stroke-width="2.5"/>`, "dropped")
	item(`<line x1="0" y1="0" x2="28" y2="0" stroke="#D55E00" stroke-width="1.5" stroke-dasharray="4 3"/>`, "node crashed")
	item(`<line x1="0" y1="0" x2="28" y2="0" stroke="#999999" stroke-width="7"/>`, "node paused")
	if len(t.faults) > 0 {
		c := faultColors[0]
		item(fmt.Sprintf(`<rect x="0" y="-6" width="28" height="12" fill="rgb(%d,%d,%d)" fill-opacity="%.2f"/>`, c.R, c.G, c.B, float64(c.A)/255), "fault or protocol window")
	}
}

// svgFaults shades the fault windows across the diagram, each labelled
// at its start.
func (t *Timeline) svgFaults(b *bytes.Buffer, fr svgFrame) {
	for k, f := range t.faults {
		fe := min(f.End, fr.end)
		if fe <= f.Start {
			continue
		}
		c := faultColors[k%len(faultColors)]
		fmt.Fprintf(b, `<rect class="fault" x="0" y="%.1f" width="%d" height="%.1f" fill="rgb(%d,%d,%d)" fill-opacity="%.2f"><title>%s</title></rect>`+"\n",
			fr.y(f.Start), fr.width, fr.y(fe)-fr.y(f.Start), c.R, c.G, c.B, float64(c.A)/255, html.EscapeString(f.String()))
		fmt.Fprintf(b, `<text x="4" y="%.1f" fill="#444">%s</text>`+"\n", fr.y(f.Start)+12, html.EscapeString(f.Kind+" "+f.Label))
	}
}

// svgAxis writes the time axis: ten ticks.
func svgAxis(b *bytes.Buffer, fr svgFrame) {
	for i := 0; i <= 10; i++ {
		at := sim.Time(int64(fr.end) * int64(i) / 10)
		y := fr.y(at)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999"/><text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n",
			tlLeft-8, y, tlLeft-2, y, tlLeft-10, y+4, html.EscapeString(at.String()))
	}
}

// lifeSpan is a stretch of a lifeline: [from, to).
type lifeSpan struct{ from, to sim.Time }

// nodeSpans returns, per node, the spans it was crashed (down) and paused,
// those still open at the end running to end.
func (t *Timeline) nodeSpans(nn int, end sim.Time) (down, paused [][]lifeSpan) {
	down = make([][]lifeSpan, nn)
	paused = make([][]lifeSpan, nn)
	openDown := make([]sim.Time, nn)
	openPause := make([]sim.Time, nn)
	for i := range openDown {
		openDown[i], openPause[i] = -1, -1
	}
	for _, e := range t.events {
		if e.Node < 0 || int(e.Node) >= nn {
			continue
		}
		n := int(e.Node)
		switch e.Kind {
		case sim.KindCrash:
			openDown[n] = e.At
		case sim.KindRestart:
			if openDown[n] >= 0 {
				down[n] = append(down[n], lifeSpan{openDown[n], e.At})
				openDown[n] = -1
			}
		case sim.KindPause:
			openPause[n] = e.At
		case sim.KindResume:
			if openPause[n] >= 0 {
				paused[n] = append(paused[n], lifeSpan{openPause[n], e.At})
				openPause[n] = -1
			}
		}
	}
	for n := 0; n < nn; n++ {
		if openDown[n] >= 0 {
			down[n] = append(down[n], lifeSpan{openDown[n], end})
		}
		if openPause[n] >= 0 {
			paused[n] = append(paused[n], lifeSpan{openPause[n], end})
		}
	}
	return down, paused
}

// svgLifelines writes each node's name and lifeline, with its crash and
// pause spans.
func (t *Timeline) svgLifelines(b *bytes.Buffer, fr svgFrame) {
	down, paused := t.nodeSpans(fr.nodes, fr.end)
	for n := 0; n < fr.nodes; n++ {
		x := fr.x(sim.NodeID(n))
		fmt.Fprintf(b, `<text class="node" x="%.1f" y="%d" text-anchor="middle" font-weight="bold" font-size="13">%s</text>`+"\n", x, tlTop-16, html.EscapeString(t.nodeName(sim.NodeID(n))))
		fmt.Fprintf(b, `<line class="lifeline" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-width="1.5"/>`+"\n", x, tlTop-8, x, tlTop+fr.axisH)
		for _, s := range paused[n] {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999999" stroke-width="7"><title>paused</title></line>`+"\n", x, fr.y(s.from), x, fr.y(s.to))
		}
		for _, s := range down[n] {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ffffff" stroke-width="3"/>`, x, fr.y(s.from), x, fr.y(s.to))
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#D55E00" stroke-width="1.5" stroke-dasharray="4 3"><title>crashed</title></line>`+"\n", x, fr.y(s.from), x, fr.y(s.to))
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#D55E00" font-size="10">crash</text>`+"\n", x+4, fr.y(s.from)+10)
		}
	}
}

// arrowEnds returns where message a's arrow starts and ends: from its
// send to its delivery or drop; a message still in flight where the
// diagram ends heads towards its destination and is cut at the axis
// edge; a message whose send was not kept is a short horizontal stub.
func (t *Timeline) arrowEnds(a arrow, fr svgFrame) (x1, y1, x2, y2 float64) {
	x1, x2 = fr.x(a.from), fr.x(a.dst)
	switch {
	case a.send >= 0 && a.to >= 0:
		y1, y2 = fr.y(t.events[a.send].At), fr.y(t.events[a.to].At)
	case a.send >= 0: // still in flight where the diagram ends: cut
		y1, y2 = fr.y(t.events[a.send].At), fr.y(fr.end)
		// Head towards the destination, but stop at the axis edge
		// after at most a quarter of the way: the delivery time is
		// unknown.
		if y2-y1 > 0 {
			x2 = x1 + (x2-x1)*math.Min(0.25, (y2-y1)/float64(fr.axisH)*4)
		} else {
			x2 = x1 + (x2-x1)*0.1
		}
	default: // the send was not kept
		y2 = fr.y(t.events[a.to].At)
		y1 = y2
		x1 = x2 - (x2-x1)/4
	}
	return x1, y1, x2, y2
}

// svgMessages writes an arrow per message, coloured by label: delivered
// (with the label at its middle in small diagrams), dropped (crossed out
// part way) or cut (in flight at the end).
func (t *Timeline) svgMessages(b *bytes.Buffer, fr svgFrame) {
	colors := map[string]int{}
	for _, a := range t.arrows() {
		ci, ok := colors[a.label]
		if !ok {
			ci = len(colors)
			colors[a.label] = ci
		}
		c := OkabeIto[ci%(len(OkabeIto)-1)] // no yellow on white
		col := fmt.Sprintf("rgb(%d,%d,%d)", c.R, c.G, c.B)
		x1, y1, x2, y2 := t.arrowEnds(a, fr)
		switch {
		case a.drop:
			// Draw the arrow part way and cross it out.
			mx, my := x1+(x2-x1)*0.6, y1+(y2-y1)*0.6
			if y2 == y1 {
				my = y1
			}
			fmt.Fprintf(b, `<g class="msg drop"><title>%s dropped at %s: %s</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2"/>`,
				html.EscapeString(a.label), t.events[a.to].At, html.EscapeString(t.events[a.to].Cause), x1, y1, mx, my, col)
			fmt.Fprintf(b, `<path d="M%.1f,%.1f l8,8 M%.1f,%.1f l-8,8" stroke="#D55E00" stroke-width="2.5"/></g>`+"\n", mx-4, my-4, mx+4, my-4)
		case a.to < 0:
			dir := 1.0
			if a.dst < a.from {
				dir = -1
			}
			fmt.Fprintf(b, `<g class="msg cut"><title>%s: in flight when the diagram ends</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2" stroke-dasharray="3 3"/>`,
				html.EscapeString(a.label), x1, y1, x2, y2, col)
			fmt.Fprintf(b, `<path d="M%.1f,%.1f l%.1f,5 l%.1f,5 M%.1f,%.1f l%.1f,5 l%.1f,5" fill="none" stroke="%s" stroke-width="1.2"/></g>`+"\n",
				x2, y2-10, 4*dir, -4*dir, x2+4*dir, y2-10, 4*dir, -4*dir, col)
		default:
			fmt.Fprintf(b, `<g class="msg"><title>%s</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2" marker-end="url(#arrow)"/>`,
				html.EscapeString(a.label), x1, y1, x2, y2, col)
			if a.label != "" && len(t.events) <= 400 {
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s" font-size="10">%s</text>`, (x1+x2)/2, (y1+y2)/2-3, col, html.EscapeString(truncate(a.label, 24)))
			}
			b.WriteString("</g>\n")
		}
	}
}

// svgMarks writes timer firings (dots on the lifeline) and notes (text at
// the left edge).
func (t *Timeline) svgMarks(b *bytes.Buffer, fr svgFrame) {
	for _, e := range t.events {
		switch e.Kind {
		case sim.KindTimer:
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#56B4E9"><title>timer %d</title></circle>`+"\n", fr.x(e.Node), fr.y(e.At), e.Tag)
		case sim.KindNote:
			fmt.Fprintf(b, `<text x="%d" y="%.1f" fill="#555" font-style="italic">%s</text>`+"\n", tlLeft, fr.y(e.At)-2, html.EscapeString(truncate(e.Cause, 60)))
		}
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// traceEvent is one record of the Chrome trace-event format.
type traceEvent struct {
	Name string            `json:"name"`
	Cat  string            `json:"cat,omitempty"`
	Ph   string            `json:"ph"`
	Ts   float64           `json:"ts"`
	Dur  *float64          `json:"dur,omitempty"`
	Pid  int               `json:"pid"`
	Tid  int               `json:"tid"`
	ID   int               `json:"id,omitempty"`
	BP   string            `json:"bp,omitempty"`
	S    string            `json:"s,omitempty"`
	Args map[string]string `json:"args,omitempty"`
}

// WriteTrace writes the trace in the Chrome trace-event JSON format that
// Perfetto (ui.perfetto.dev) and chrome://tracing open: one thread per
// node, deliveries and timers as slices, messages as flow arrows, drops,
// crashes and pauses as instants, and fault windows as slices on a
// "faults" track. Timestamps are microseconds of simulated time.
func (t *Timeline) WriteTrace(w io.Writer) error {
	us := func(at sim.Time) float64 { return float64(at) / 1e3 }
	zero := 0.0
	var evs []traceEvent
	evs = append(evs, traceEvent{Name: "process_name", Ph: "M", Pid: 1, Args: map[string]string{"name": "dsim run"}})
	evs = append(evs, traceEvent{Name: "thread_name", Ph: "M", Pid: 1, Tid: 0, Args: map[string]string{"name": "faults"}})
	nn := t.numNodes()
	for n := 0; n < nn; n++ {
		evs = append(evs, traceEvent{Name: "thread_name", Ph: "M", Pid: 1, Tid: n + 1, Args: map[string]string{"name": t.nodeName(sim.NodeID(n))}})
	}
	for _, f := range t.faults {
		fe := f.End
		if fe > t.end {
			fe = t.end
		}
		d := us(fe) - us(f.Start)
		if d < 0 {
			d = 0
		}
		evs = append(evs, traceEvent{Name: f.Kind + " " + f.Label, Cat: "fault", Ph: "X", Ts: us(f.Start), Dur: &d, Pid: 1, Tid: 0})
	}
	arrows := t.arrows()
	flowOf := map[int][]int{} // event index -> flow ids that start (send) or end there
	for k, a := range arrows {
		if a.send >= 0 && a.to >= 0 && !a.drop {
			flowOf[a.send] = append(flowOf[a.send], k+1)
			flowOf[a.to] = append(flowOf[a.to], -(k + 1))
		}
	}
	for i, e := range t.events {
		tid := int(e.Node) + 1
		switch e.Kind {
		case sim.KindSend:
			tid = int(e.From) + 1
			evs = append(evs, traceEvent{Name: "send " + e.Label, Cat: "send", Ph: "X", Ts: us(e.At), Dur: &zero, Pid: 1, Tid: tid,
				Args: map[string]string{"to": t.nodeName(e.Node)}})
		case sim.KindDeliver:
			evs = append(evs, traceEvent{Name: "recv " + e.Label, Cat: "deliver", Ph: "X", Ts: us(e.At), Dur: &zero, Pid: 1, Tid: tid,
				Args: map[string]string{"from": t.nodeName(e.From)}})
		case sim.KindTimer:
			evs = append(evs, traceEvent{Name: "timer", Cat: "timer", Ph: "X", Ts: us(e.At), Dur: &zero, Pid: 1, Tid: tid,
				Args: map[string]string{"tag": strconv.FormatUint(e.Tag, 10)}})
		case sim.KindDrop:
			evs = append(evs, traceEvent{Name: "drop " + e.Label, Cat: "drop", Ph: "i", S: "t", Ts: us(e.At), Pid: 1, Tid: tid,
				Args: map[string]string{"from": t.nodeName(e.From), "cause": e.Cause}})
		case sim.KindNote:
			evs = append(evs, traceEvent{Name: e.Cause, Cat: "note", Ph: "i", S: "g", Ts: us(e.At), Pid: 1, Tid: 0})
		default:
			evs = append(evs, traceEvent{Name: e.Kind.String(), Cat: e.Kind.String(), Ph: "i", S: "t", Ts: us(e.At), Pid: 1, Tid: tid})
		}
		for _, id := range flowOf[i] {
			if id > 0 {
				evs = append(evs, traceEvent{Name: "msg", Cat: "msg", Ph: "s", Ts: us(e.At), Pid: 1, Tid: tid, ID: id})
			} else {
				evs = append(evs, traceEvent{Name: "msg", Cat: "msg", Ph: "f", BP: "e", Ts: us(e.At), Pid: 1, Tid: tid, ID: -id})
			}
		}
	}
	doc := struct {
		TraceEvents     []traceEvent      `json:"traceEvents"`
		DisplayTimeUnit string            `json:"displayTimeUnit"`
		OtherData       map[string]string `json:"otherData"`
	}{evs, "ms", map[string]string{
		"generator":      "dsim",
		"events_kept":    strconv.Itoa(len(t.events)),
		"events_dropped": strconv.FormatInt(t.dropped, 10),
		"max_events":     strconv.Itoa(t.cfg.MaxEvents),
	}}
	if t.dropped > 0 {
		doc.OtherData["note"] = fmt.Sprintf("truncated: %d events after the first %d were not kept", t.dropped, len(t.events))
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// WriteFiles writes timeline.svg and trace.json into dir, atomically.
func (t *Timeline) WriteFiles(dir string) error {
	var svg, tr bytes.Buffer
	if err := t.WriteSVG(&svg); err != nil {
		return err
	}
	if err := t.WriteTrace(&tr); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, TimelineSVG), svg.Bytes()); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, TimelineTrace), tr.Bytes())
}

// Note returns the report note for a truncated timeline, or "".
func (t *Timeline) Note() string {
	if t.dropped == 0 {
		return ""
	}
	return strings.TrimSpace(fmt.Sprintf("Timeline truncated: the first %d events are shown, %d later events were not kept (max_events %d).",
		len(t.events), t.dropped, t.cfg.MaxEvents))
}
