package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchPHOLDReference checks that one bench run measures the engine
// and the bare-heap reference side by side: medians over the interleaved
// runs, the ratio, and memory per pending event.
func TestBenchPHOLDReference(t *testing.T) {
	code, out, errOut := runCLI("bench", "phold", "--lps", "20", "--per-lp", "5", "--events", "20000", "--repeat", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep pholdReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if rep.Pending != 100 || rep.Repeat != 3 || len(rep.Samples) != 3 {
		t.Fatalf("pending %d, repeat %d, %d engine samples", rep.Pending, rep.Repeat, len(rep.Samples))
	}
	if rep.Heap == nil || len(rep.Heap.Samples) != 3 {
		t.Fatalf("no heap reference samples: %s", out)
	}
	if rep.Ratio <= 0 || rep.PairRatio <= 0 || rep.Heap.EventsPerSec <= 0 || rep.HeapBytesPerPending <= 0 {
		t.Fatalf("ratio %v, paired %v, heap events/s %v, heap B/pending %v", rep.Ratio, rep.PairRatio, rep.Heap.EventsPerSec, rep.HeapBytesPerPending)
	}
	for _, s := range append(rep.Samples, rep.Heap.Samples...) {
		if s.Hash == "" || s.EventsPerSec <= 0 {
			t.Fatalf("bad sample %+v", s)
		}
	}
	// Every run of the same implementation and seed does the same work.
	for _, ss := range [][]pholdSample{rep.Samples, rep.Heap.Samples} {
		for _, s := range ss[1:] {
			if s.Hash != ss[0].Hash {
				t.Fatalf("runs of one implementation disagree: %s vs %s", s.Hash, ss[0].Hash)
			}
		}
	}
}

func TestBenchPHOLDText(t *testing.T) {
	code, out, errOut := runCLI("bench", "phold", "--lps", "20", "--per-lp", "5", "--events", "5000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"bare heap", "dsim / bare heap", "RSS B/pending", "heap B/pending"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI("bench", "phold", "--lps", "20", "--events", "5000", "--reference=false")
	if code != 0 || strings.Contains(out, "bare heap") {
		t.Errorf("--reference=false: exit %d, output:\n%s", code, out)
	}
	if code, _, errOut := runCLI("bench", "phold", "--repeat", "0"); code != exitUsage || !strings.Contains(errOut, "--repeat") {
		t.Errorf("--repeat 0: exit %d, stderr %s", code, errOut)
	}
}

func TestPairRatio(t *testing.T) {
	eng := []pholdSample{{EventsPerSec: 10}, {EventsPerSec: 4}, {EventsPerSec: 9}}
	ref := []pholdSample{{EventsPerSec: 5}, {EventsPerSec: 4}, {EventsPerSec: 3}}
	f := func(p pholdSample) float64 { return p.EventsPerSec }
	for _, tc := range []struct {
		eng, ref []pholdSample
		want     float64
	}{
		{eng, ref, 2},                   // ratios 2, 1, 3
		{eng[:2], ref[:2], 1.5},         // ratios 2, 1
		{eng, nil, 0},                   // no reference
		{eng[:1], []pholdSample{{}}, 0}, // not measured
	} {
		if got := pairRatio(tc.eng, tc.ref, f); got != tc.want {
			t.Errorf("pairRatio(%v, %v) = %v, want %v", tc.eng, tc.ref, got, tc.want)
		}
	}
}

func TestMedians(t *testing.T) {
	s := []pholdSample{{EventsPerSec: 3, PeakRSSBytes: 300}, {EventsPerSec: 1, PeakRSSBytes: 100}, {EventsPerSec: 2, PeakRSSBytes: 200}, {EventsPerSec: 10, PeakRSSBytes: 1000}}
	m := medians(s, 10)
	if m.EventsPerSec != 2.5 || m.PeakRSSBytes != 250 || m.RSSBytesPerPending != 25 {
		t.Fatalf("medians %+v", m)
	}
	m = medians(s[:3], 10)
	if m.EventsPerSec != 2 || m.PeakRSSBytes != 200 {
		t.Fatalf("odd medians %+v", m)
	}
}
