//go:build unix

package experiments

import (
	"errors"
	"os"
	"syscall"
)

// lockFD takes an exclusive, non-blocking flock on f; ErrLocked when
// another open file holds it. The kernel releases it when the process
// dies, so a killed run never leaves the folder locked.
func lockFD(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}
