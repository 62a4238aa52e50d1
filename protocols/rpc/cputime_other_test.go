//go:build !unix

package rpc

import "time"

// cpuTime is not measured here: BenchmarkRetryStorm omits req/cpu-s.
func cpuTime() time.Duration { return 0 }
