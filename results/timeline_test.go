package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

type ping struct{ N int }
type pong struct{ N int }

// pinger sends a ping to "server" every 10 ms; the server answers.
type pinger struct{ n int }

func (p *pinger) Start(env sim.Env) {
	if env.Name() == "client" {
		env.After(10*time.Millisecond, 0)
	}
}

func (p *pinger) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	if m, ok := msg.(ping); ok {
		env.Send(from, pong(m))
	}
}

func (p *pinger) Timer(env sim.Env, tag uint64) {
	p.n++
	srv, _ := env.Lookup("server")
	env.Send(srv, ping{p.n})
	env.After(10*time.Millisecond, 0)
}

// timelineRun runs the ping-pong for 100 ms with the server crashed from
// 35 to 60 ms, observed by a timeline.
func timelineRun(cfg TimelineConfig) *Timeline {
	e := sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: 3 * time.Millisecond})
	e.MustAddNode("client", func() sim.Node { return &pinger{} })
	srv := e.MustAddNode("server", func() sim.Node { return &pinger{} })
	tl := NewTimeline(e, cfg)
	e.Observe(tl)
	crash := sim.Window{Kind: "crash", Label: "server", Start: sim.Time(35 * time.Millisecond), End: sim.Time(60 * time.Millisecond)}
	e.At(crash.Start, func() { e.Crash(srv) })
	e.At(crash.End, func() { e.Restart(srv) })
	if err := e.Run(sim.Time(100 * time.Millisecond)); err != nil {
		panic(err)
	}
	tl.Finish(e.Now())
	tl.AddFaults(crash)
	return tl
}

// TestTimelineGolden compares the sequence diagram and the trace JSON of
// a small run with testdata/golden/timeline/ (regenerate with -rewrite)
// and checks their structure.
func TestTimelineGolden(t *testing.T) {
	cfg := DefaultTimelineConfig()
	cfg.Timers = true
	tl := timelineRun(cfg)
	dir := t.TempDir()
	if err := tl.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{TimelineSVG, TimelineTrace} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		simtest.Golden(t, filepath.Join("testdata", "golden", "timeline", name), got)
	}

	// Pings at 10, 20, 30 ms are answered; the ping sent at 40 ms
	// arrives at the crashed server and is dropped; pings at 50 ms too;
	// from 60 ms the restarted server answers again (60, 70, 80, 90 ms:
	// the pong of the 90 ms ping arrives at 96 ms); the ping sent at
	// 100 ms is still in flight when the run ends.
	var svg bytes.Buffer
	if err := tl.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	s := svg.String()
	if n := strings.Count(s, `class="lifeline"`); n != 2 {
		t.Errorf("%d lifelines, want 2", n)
	}
	if n := strings.Count(s, `class="msg drop"`); n != 2 {
		t.Errorf("%d dropped messages drawn, want 2", n)
	}
	if n := strings.Count(s, `class="msg"`); n != 14 {
		t.Errorf("%d messages drawn, want 14 (7 pings, 7 pongs)", n)
	}
	if n := strings.Count(s, `class="msg cut"`); n != 1 {
		t.Errorf("%d in-flight messages drawn, want 1 (the ping sent at 100 ms)", n)
	}
	if !strings.Contains(s, `class="legend"`) || !strings.Contains(s, "in flight at the end (cut)") {
		t.Error("no legend of the line styles")
	}
	if !strings.Contains(s, `class="fault"`) || !strings.Contains(s, "crashed") {
		t.Error("crash window or crashed lifeline not drawn")
	}

	var tr struct {
		TraceEvents []struct {
			Name string  `json:"name"`
			Ph   string  `json:"ph"`
			Ts   float64 `json:"ts"`
			Tid  int     `json:"tid"`
			ID   int     `json:"id"`
		} `json:"traceEvents"`
		OtherData map[string]string `json:"otherData"`
	}
	var js bytes.Buffer
	if err := tl.WriteTrace(&js); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js.Bytes(), &tr); err != nil {
		t.Fatalf("trace is not JSON: %v", err)
	}
	flows := map[int]string{}
	threads := 0
	for _, ev := range tr.TraceEvents {
		switch ev.Ph {
		case "s", "f":
			flows[ev.ID] += ev.Ph
		case "M":
			if ev.Name == "thread_name" {
				threads++
			}
		}
	}
	if len(flows) != 14 {
		t.Errorf("%d message flows, want 14", len(flows))
	}
	for id, ph := range flows {
		if ph != "sf" {
			t.Errorf("flow %d has phases %q, want start then finish", id, ph)
		}
	}
	if threads != 3 {
		t.Errorf("%d named threads, want 3 (faults, client, server)", threads)
	}
	if tr.OtherData["events_dropped"] != "0" {
		t.Errorf("events_dropped = %q, want 0", tr.OtherData["events_dropped"])
	}
}

func TestTimelineIsBounded(t *testing.T) {
	tl := timelineRun(TimelineConfig{MaxEvents: 5})
	if tl.Len() != 5 || tl.Dropped() == 0 {
		t.Fatalf("kept %d, dropped %d; want 5 kept and the rest dropped", tl.Len(), tl.Dropped())
	}
	var svg, js bytes.Buffer
	if err := tl.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	if err := tl.WriteTrace(&js); err != nil {
		t.Fatal(err)
	}
	out := svg.String()
	// The note comes first, above the diagram.
	if i, j := strings.Index(out, "Truncated"), strings.Index(out, `class="lifeline"`); i < 0 || j < 0 || i > j {
		t.Error("SVG does not say it was truncated before drawing the diagram")
	}
	// The axis covers the kept events only: its last tick is the time of
	// the last kept event, not the end of the run.
	last := tl.events[len(tl.events)-1].At
	ticks := regexp.MustCompile(`text-anchor="end" fill="#555">([^<]+)</text>`).FindAllStringSubmatch(out, -1)
	if len(ticks) == 0 || ticks[len(ticks)-1][1] != last.String() {
		t.Errorf("last axis tick %v, want the last kept event's time %v", ticks[len(ticks)-1:], last)
	}
	if last >= tl.end {
		t.Fatalf("fixture: the last kept event (%v) should come before the run's end (%v)", last, tl.end)
	}
	// A message in flight at the cut is drawn short, with the cut marker,
	// and never past the axis.
	if !strings.Contains(out, `class="msg cut"`) {
		t.Error("no message is drawn as cut at the axis edge")
	}
	for _, m := range regexp.MustCompile(`y2="([0-9.]+)"`).FindAllStringSubmatch(out, -1) {
		if y, _ := strconv.ParseFloat(m[1], 64); y > float64(tlTop+400)+0.5 {
			t.Errorf("a line ends at y=%v, past the axis end %d", y, tlTop+400)
		}
	}
	if !strings.Contains(js.String(), `"note":"truncated`) {
		t.Error("trace does not say it was truncated")
	}
	if !strings.Contains(tl.Note(), "truncated") {
		t.Errorf("Note() = %q", tl.Note())
	}
	if err := (TimelineConfig{}).Validate(); err == nil {
		t.Error("MaxEvents 0 validated")
	}
}

func TestMessageLabel(t *testing.T) {
	for _, tc := range []struct {
		msg  sim.Message
		want string
	}{
		{ping{1}, "ping"},
		{&pong{2}, "pong"},
		{sim.KindSend, "send"}, // a Stringer
		{[]byte("x"), "[]uint8"},
		{nil, ""},
	} {
		if got := MessageLabel(tc.msg); got != tc.want {
			t.Errorf("MessageLabel(%#v) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}
