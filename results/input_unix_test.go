//go:build unix

package results

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadInputSpecial: a named pipe and a device are refused before they
// are opened (the pipe would block, /dev/zero never end).
func TestReadInputSpecial(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "summary.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for path, want := range map[string]string{
		fifo:        "summary.csv: is a named pipe, not a regular file",
		"/dev/zero": "/dev/zero: is a device, not a regular file",
	} {
		if _, err := ReadInput(path, MaxDataBytes); !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}
