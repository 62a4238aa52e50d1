//go:build unix

package netmodel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadEmpiricalSpecialFiles: a device or a named pipe given as an
// empirical file is refused before it is opened (/dev/zero would grow
// without end, a FIFO would block), and so is a file over the size bound.
func TestLoadEmpiricalSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big.csv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxEmpiricalBytes + 1); err != nil { // sparse
		t.Fatal(err)
	}
	f.Close()
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "not a regular file"},
		{fifo, "not a regular file"},
		{big, "larger than"},
	} {
		_, err := LoadEmpirical(tc.path)
		if !errors.Is(err, ErrEmpirical) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.path, err)
		}
	}
}
