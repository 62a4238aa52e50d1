package sim_test

import (
	"testing"

	"github.com/dsim-dev/dsim/sim"
)

func TestOutcomeString(t *testing.T) {
	for o, want := range map[sim.Outcome]string{sim.OK: "ok", sim.Failed: "failed", sim.TimedOut: "timed_out", 9: "Outcome(9)"} {
		if o.String() != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", o, o.String(), want)
		}
	}
}
