//go:build !linux

package main

import "time"

// threadCPU is not available on this platform.
func threadCPU() (time.Duration, bool) { return 0, false }
