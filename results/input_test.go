package results

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadInput: regular files within their bound are read; a folder, a
// file over its bound (by its size, or growing past it) and a compressed
// stream expanding past its bound are refused as ErrBadFile; a missing
// file is fs.ErrNotExist.
func TestReadInput(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.csv")
	if err := os.WriteFile(small, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadInput(small, 8); err != nil || string(b) != "a,b\n1,2\n" {
		t.Errorf("small file at its bound: %q %v", b, err)
	}
	for _, tc := range []struct {
		name, path string
		limit      int64
		want       string
	}{
		{"over its bound", small, 7, "small.csv: is larger than 7 bytes"},
		{"a folder", dir, 1 << 20, "is a folder, not a regular file"},
	} {
		_, err := ReadInput(tc.path, tc.limit)
		if !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadInput(filepath.Join(dir, "missing.csv"), 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A file that grows after its size was checked still stops at the
	// bound.
	r, err := OpenInput(small, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.WriteFile(small, bytes.Repeat([]byte("x"), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, ErrBadFile) {
		t.Errorf("grown file: %v", err)
	}
	// A gzip bomb: 1 MiB of zeros in a few kB, bounded to 64 kB.
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	gz.Write(make([]byte, 1<<20))
	gz.Close()
	zr, _ := gzip.NewReader(&z)
	if _, err := io.ReadAll(LimitDecoded(zr, "bomb.gz", 64<<10)); !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), "bomb.gz: decompresses to more than") {
		t.Errorf("gzip bomb: %v", err)
	}
}
