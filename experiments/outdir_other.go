//go:build !unix && !windows

package experiments

import "os"

// lockFD does not lock where neither flock nor LockFileEx exists (Plan 9,
// WebAssembly): concurrent writers to one folder are then not detected.
func lockFD(*os.File) error { return nil }
