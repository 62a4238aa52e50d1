//go:build unix

package experiments

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time this process has used (all threads,
// garbage collection included).
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
