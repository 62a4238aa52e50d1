package results

import (
	"errors"
	"io"

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
// JSON.
type Timeline struct {
	cfg     TimelineConfig
	names   Namer
	events  []tlEvent
	dropped int64
	faults  []FaultWindow
	end     sim.Time
}

type tlEvent struct {
	At    sim.Time
	Kind  sim.EventKind
	Node  sim.NodeID
	From  sim.NodeID
	Tag   uint64
	Label string
	Cause string
}

var _ sim.Observer = (*Timeline)(nil)

// NewTimeline returns a timeline of the run whose nodes names names.
func NewTimeline(names Namer, cfg TimelineConfig) *Timeline {
	return &Timeline{cfg: cfg, names: names}
}

// OnEvent records one event.
func (t *Timeline) OnEvent(ev *sim.Event) {}

// AddFaults adds fault windows to shade.
func (t *Timeline) AddFaults(ws ...FaultWindow) { t.faults = append(t.faults, ws...) }

// Finish sets the run's end time, which bounds the diagram.
func (t *Timeline) Finish(end sim.Time) { t.end = end }

// Dropped returns the number of events not kept because of MaxEvents.
func (t *Timeline) Dropped() int64 { return t.dropped }

// WriteSVG renders the message sequence diagram.
func (t *Timeline) WriteSVG(w io.Writer) error { return errors.New("not implemented") }

// WriteTrace writes the trace in the Chrome trace-event JSON format that
// Perfetto (ui.perfetto.dev) and chrome://tracing open.
func (t *Timeline) WriteTrace(w io.Writer) error { return errors.New("not implemented") }

// WriteFiles writes timeline.svg and trace.json into dir.
func (t *Timeline) WriteFiles(dir string) error { return errors.New("not implemented") }
