//go:build windows

package experiments

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the lock lies: one byte far beyond the text of the
// lock file. Windows locks are mandatory, so a lock on the text would
// keep the process refused from reading who holds the folder.
const lockOffset = 1 << 62

// lockFD takes an exclusive, non-blocking lock (LockFileEx) on f; ErrLocked
// when another handle holds it, in this process or another. Windows
// releases it when the handle is closed or the process dies, so a killed
// run never leaves the folder locked.
func lockFD(f *os.File) error {
	ol := &windows.Overlapped{Offset: uint32(lockOffset & 0xFFFFFFFF), OffsetHigh: uint32(lockOffset >> 32)}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return ErrLocked
	}
	return err
}
