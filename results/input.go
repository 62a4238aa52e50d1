package results

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Bounds on the files of a results or run folder that dsim reads back
// (dsim plot, dsim merge, --resume). They are far above what a run
// writes (the 1,000-seed retry-storm folder is under 100 MB) and
// keep a damaged or hostile folder from exhausting memory.
const (
	// MaxMetaBytes bounds manifest.json, plan.json, the resolved config
	// and the other small descriptive files.
	MaxMetaBytes = 64 << 20
	// MaxDataBytes bounds a CSV file, a timeline, a run's stored record
	// and a series file, and what a compressed one expands to.
	MaxDataBytes = 1 << 30
)

// ErrBadFile matches the errors of OpenInput and ReadInput for a file
// that is not a regular file, or larger than its bound: bad input, not a
// failure of the tool.
var ErrBadFile = errors.New("not a readable results file")

type badFile struct{ msg string }

func (e *badFile) Error() string        { return e.msg }
func (e *badFile) Is(target error) bool { return target == ErrBadFile }

// NotRegular says what a file of mode m is when it is not a regular file
// ("a folder", "a named pipe", "a device", "a socket", "a special file"),
// for messages that refuse it; it returns "" for a regular file.
func NotRegular(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return ""
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// OpenInput opens a file of a results or run folder for reading. It
// refuses anything but a regular file before opening it (a named pipe
// would block, a device such as /dev/zero never end) and a file larger
// than limit bytes; the reader stops with an error past limit whatever
// the file grows to while it is read. A missing file's error matches
// fs.ErrNotExist.
func OpenInput(path string, limit int64) (io.ReadCloser, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if what := NotRegular(st.Mode()); what != "" {
		return nil, &badFile{fmt.Sprintf("%s: is %s, not a regular file", path, what)}
	}
	if st.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &boundedFile{boundedReader{r: f, path: path, what: "is larger than", limit: limit, left: limit}, f}, nil
}

// ReadInput reads a whole file of a results or run folder, as OpenInput
// opens it.
func ReadInput(path string, limit int64) ([]byte, error) {
	r, err := OpenInput(path, limit)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// LimitDecoded bounds what a decompressing reader r of the file path
// yields to limit bytes, failing past it: a small compressed file cannot
// expand without bound.
func LimitDecoded(r io.Reader, path string, limit int64) io.Reader {
	return &boundedReader{r: r, path: path, what: "decompresses to", limit: limit, left: limit}
}

func tooLarge(path string, limit int64) error {
	return &badFile{fmt.Sprintf("%s: is larger than %s", path, sizeText(limit))}
}

// sizeText writes a bound in MiB when it is a whole number of them.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// boundedReader fails when r yields more than limit bytes.
type boundedReader struct {
	r           io.Reader
	path, what  string
	limit, left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, &badFile{fmt.Sprintf("%s: %s more than %s", b.path, b.what, sizeText(b.limit))}
	}
	return n, err
}

// boundedFile is an open input file that fails past its bound.
type boundedFile struct {
	boundedReader
	f *os.File
}

func (b *boundedFile) Close() error { return b.f.Close() }
