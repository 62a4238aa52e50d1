package sim

import (
	"errors"
	"fmt"
)

// ErrNondeterministic is returned by CheckDeterminism when two runs of the
// same scenario disagree.
var ErrNondeterministic = errors.New("run is not deterministic")

// CheckDeterminism builds a scenario twice with build, runs each to until,
// and compares the event hashes and counts. It returns the hash of the
// first run, and ErrNondeterministic (wrapped with both hashes) if the
// second differs: something inside the run read the wall clock, global
// randomness or map iteration order.
func CheckDeterminism(build func() (*Engine, error), until Time) (uint64, error) {
	var hash [2]uint64
	var events [2]uint64
	for i := range 2 {
		e, err := build()
		if err != nil {
			return 0, err
		}
		if err := e.Run(until); err != nil {
			return 0, err
		}
		hash[i], events[i] = e.Hash(), e.Events()
	}
	if hash[0] != hash[1] || events[0] != events[1] {
		return hash[0], fmt.Errorf("%w: run 1 dispatched %d events (hash %016x), run 2 dispatched %d (hash %016x)",
			ErrNondeterministic, events[0], hash[0], events[1], hash[1])
	}
	return hash[0], nil
}
