//go:build unix

package rpc

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time this process has used (all threads,
// garbage collection included): on a loaded machine a steadier measure
// of a benchmark's cost than its wall time.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
