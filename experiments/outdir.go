package experiments

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/results"
)

// The output folder's lifecycle. One run (or merge) at a time owns a
// folder: it holds a lock on <out>/.dsim-lock from the first check to the
// last write, so a second writer is refused at once instead of mixing its
// files with the first one's. Temporary files left by a killed process are
// removed when the folder is next opened. With --force the new results go
// to a hidden sibling folder and replace the old ones only once they are
// complete, so a failure (a full disk, a crash, Ctrl-C) leaves the
// previous results as they were. A shard's folder records which shard it
// holds, and resuming it as another shard is refused.

// Files of the output folder's lifecycle.
const (
	// lockFile is held (flock) by the process writing the folder.
	lockFile = ".dsim-lock"
	// shardFile records the shard a folder holds, when it is one.
	shardFile = "shard.json"
	// forceMark names the sibling folder a --force run writes into:
	// .<base>.dsim-force-<pid>.
	forceMark = ".dsim-force-"
)

// ErrLocked is returned when another process is writing the output
// folder.
var ErrLocked = errors.New("output folder in use")

// outDir is an output folder held by this process for one run.
type outDir struct {
	// dir is the folder the user named.
	dir string
	// work is where this run writes: dir, or with --force a sibling
	// folder moved into dir by commit.
	work string
	// fresh is set when dir held no results before this run.
	fresh bool
	// created is set when this run created dir.
	created   bool
	committed bool
	lock      *os.File
}

// shardID is the content of runs/shard.json.
type shardID struct {
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
}

// openOut locks dir, checks it against the options (refusing a folder
// with results unless Resume or Force), removes what a killed process left
// behind, and writes the plan. It returns the finished runs already in
// the folder with Resume. Nothing is removed or replaced unless the checks
// pass.
func openOut(dir string, p plan, opts RunOptions) (_ *outDir, _ map[int]uint64, err error) {
	o := &outDir{dir: dir, work: dir}
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return nil, nil, badInput("output %s exists and is not a folder", dir)
	case errors.Is(err, os.ErrNotExist):
		o.created = true
	case err != nil:
		return nil, nil, badInput("cannot use output folder %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, badInput("cannot create output folder: %w", err)
	}
	if err := o.acquire(); err != nil {
		if o.created {
			err = errors.Join(err, os.Remove(dir))
		}
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			err = errors.Join(err, o.release())
		}
	}()
	if err := o.removeStale(); err != nil {
		return nil, nil, badInput("cannot clean up output folder %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, badInput("cannot read output folder %s: %w", dir, err)
	}
	exists := false
	for _, e := range entries {
		if e.Name() != lockFile {
			exists = true
		}
	}
	o.fresh = !exists
	want := shardID{Shard: opts.Shard, Shards: max(opts.Shards, 1)}
	if want.Shards == 1 {
		want.Shard = 0
	}
	var prev map[int]uint64
	switch {
	case exists && opts.Resume:
		old, err := readPlan(dir)
		if err != nil {
			return nil, nil, badInput("cannot resume in %s: it holds no dsim runs (%w)", dir, err)
		}
		if old.ConfigHash != p.ConfigHash {
			return nil, nil, badInput("cannot resume in %s: it holds runs of a different config (hash %.12s, now %.12s); use --force to replace them", dir, old.ConfigHash, p.ConfigHash)
		}
		have, err := readShard(dir)
		if err != nil {
			return nil, nil, badInput("cannot resume in %s: %w", dir, err)
		}
		if have != want {
			return nil, nil, badInput("cannot resume in %s: it holds %s, not %s; resume it with %s, or give another --out", dir, have, want, have.flag())
		}
		runs, err := readSeeds(dir)
		if err != nil {
			return nil, nil, err
		}
		prev = runs
	case exists && opts.Force:
		o.work = o.sibling(forceMark + fmt.Sprint(os.Getpid()))
		if err := os.RemoveAll(o.work); err != nil {
			return nil, nil, badInput("cannot replace %s: %w", dir, err)
		}
	case exists:
		return nil, nil, badInput("output folder %s already exists and is not empty; use --force to replace it or --resume to continue it", dir)
	}
	if err := os.MkdirAll(filepath.Join(o.work, runsDir), 0o755); err != nil {
		return nil, nil, badInput("cannot create output folder: %w", err)
	}
	pb, err := encodePlan(p)
	if err != nil {
		return nil, nil, badInput("cannot record the experiment in %s: %w", dir, err)
	}
	if err := results.WriteFileAtomic(filepath.Join(o.work, runsDir, planFile), pb); err != nil {
		return nil, nil, badInput("cannot write to output folder %s: %w", dir, err)
	}
	if want.Shards > 1 {
		b, err := json.Marshal(want)
		if err != nil {
			return nil, nil, err
		}
		if err := results.WriteFileAtomic(filepath.Join(o.work, runsDir, shardFile), append(b, '\n')); err != nil {
			return nil, nil, badInput("cannot write to output folder %s: %w", dir, err)
		}
	}
	ok = true
	return o, prev, nil
}

func (s shardID) String() string {
	if s.Shards <= 1 {
		return "every run (no --shard)"
	}
	return fmt.Sprintf("shard %d/%d", s.Shard, s.Shards)
}

func (s shardID) flag() string {
	if s.Shards <= 1 {
		return "no --shard"
	}
	return fmt.Sprintf("--shard %d/%d", s.Shard, s.Shards)
}

// readShard returns the shard a folder holds; a folder without
// runs/shard.json holds every run.
func readShard(dir string) (shardID, error) {
	b, err := results.ReadInput(filepath.Join(dir, runsDir, shardFile), results.MaxMetaBytes)
	if errors.Is(err, os.ErrNotExist) {
		return shardID{Shards: 1}, nil
	}
	if err != nil {
		return shardID{}, err
	}
	var s shardID
	if err := json.Unmarshal(b, &s); err != nil {
		return shardID{}, fmt.Errorf("%s is damaged: %w", filepath.Join(dir, runsDir, shardFile), err)
	}
	if s.Shards < 1 || s.Shard < 0 || s.Shard >= s.Shards {
		return shardID{}, fmt.Errorf("%s is damaged: shard %d of %d", filepath.Join(dir, runsDir, shardFile), s.Shard, s.Shards)
	}
	return s, nil
}

// path returns the folder to write into ("" for an in-memory run).
func (o *outDir) path() string {
	if o == nil {
		return ""
	}
	return o.work
}

// commit makes the written results the folder's: with --force it moves
// the new files over the old ones, which were untouched until now. Only
// the files a results folder holds and those the run wrote are replaced;
// anything else the user keeps in the folder stays.
func (o *outDir) commit() error {
	if o == nil || o.committed {
		return nil
	}
	if o.work != o.dir {
		trash := filepath.Join(o.work, ".replaced")
		if err := os.Mkdir(trash, 0o755); err != nil {
			return fmt.Errorf("replace %s: %w", o.dir, err)
		}
		// Every file the run wrote replaces its namesake, and every file a
		// results folder may hold goes, so nothing stale stays.
		names := append(append([]string(nil), resultFiles...), runsDir, results.PlotsDir)
		written, err := os.ReadDir(o.work)
		if err != nil {
			return fmt.Errorf("replace %s: %w", o.dir, err)
		}
		for _, e := range written {
			if n := e.Name(); n != ".replaced" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		for _, name := range names {
			old, nw := filepath.Join(o.dir, name), filepath.Join(o.work, name)
			if _, err := os.Lstat(old); err == nil {
				if err := os.Rename(old, filepath.Join(trash, name)); err != nil {
					return fmt.Errorf("replace %s: %w", old, err)
				}
			}
			if _, err := os.Lstat(nw); err == nil {
				if err := os.Rename(nw, old); err != nil {
					return fmt.Errorf("replace %s: %w", old, err)
				}
			}
		}
		if err := os.RemoveAll(o.work); err != nil {
			return fmt.Errorf("remove %s: %w", o.work, err)
		}
	}
	o.committed = true
	return nil
}

// release gives the folder up. Without a commit, a --force run's new
// files are dropped (the previous results stay), and a folder this run
// created holds nothing that a run finished is removed again, so that a
// run that failed at once does not leave a folder that refuses the next.
// It returns what could not be cleaned up.
func (o *outDir) release() error {
	if o == nil {
		return nil
	}
	var errs []error
	if !o.committed {
		if o.work != o.dir {
			errs = append(errs, os.RemoveAll(o.work))
		} else if o.fresh {
			runs, err := hasRuns(o.dir)
			errs = append(errs, err)
			if err == nil && !runs {
				// Nothing finished: the plan, shard and series
				// bookkeeping of this run is all runs/ holds.
				errs = append(errs, os.RemoveAll(filepath.Join(o.dir, runsDir)))
			}
		}
	}
	errs = append(errs, o.unlock())
	if o.created {
		// Only if empty: a folder holding finished runs stays.
		if entries, err := os.ReadDir(o.dir); err != nil {
			errs = append(errs, err)
		} else if len(entries) == 0 {
			errs = append(errs, os.Remove(o.dir))
		}
	}
	return errors.Join(errs...)
}

// hasRuns reports whether the folder's runs/ holds a run file.
func hasRuns(dir string) (bool, error) {
	entries, err := os.ReadDir(filepath.Join(dir, runsDir))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "run-") {
			return true, nil
		}
	}
	return false, nil
}

// removeStale removes what a killed process leaves behind: the temporary
// files of atomic writes (.<name>.tmp<N>) in the folder, runs/ and
// plots/, and --force folders next to it. The lock guarantees that no
// other process is writing them.
func (o *outDir) removeStale() error {
	for _, d := range []string{o.dir, filepath.Join(o.dir, runsDir), filepath.Join(o.dir, results.PlotsDir)} {
		entries, err := os.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if n := e.Name(); !e.IsDir() && strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp") {
				if err := os.Remove(filepath.Join(d, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
	}
	prefix := o.sibling(forceMark)
	entries, err := os.ReadDir(filepath.Dir(prefix))
	if errors.Is(err, os.ErrPermission) {
		// A parent we may not list holds no --force folder of ours:
		// making one needs the same permission.
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); e.IsDir() && strings.HasPrefix(n, filepath.Base(prefix)) {
			if err := os.RemoveAll(filepath.Join(filepath.Dir(prefix), n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// sibling returns the path .<base><suffix> next to the folder (resolved
// to an absolute path, so that "." has a parent too).
func (o *outDir) sibling(suffix string) string {
	abs, err := filepath.Abs(o.dir)
	if err != nil {
		abs = filepath.Clean(o.dir)
	}
	return filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+suffix)
}

// acquire takes the folder's lock or says who holds it.
func (o *outDir) acquire() error {
	path := filepath.Join(o.dir, lockFile)
	for attempt := 0; attempt < 10; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return badInput("cannot lock output folder %s: %w", o.dir, err)
		}
		if err := lockFD(f); err != nil {
			f.Close()
			if errors.Is(err, ErrLocked) {
				// The holder's note is a courtesy: without it, say less.
				who := "another process"
				if holder, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(holder)) != "" {
					who = strings.TrimSpace(string(holder))
				}
				return &inputError{fmt.Errorf("%w: %s is being written by %s; wait for it to finish or give another --out", ErrLocked, o.dir, who)}
			}
			return badInput("cannot lock output folder %s: %w", o.dir, err)
		}
		// The holder before us may have removed the file between our
		// open and our lock (sameFile fails or differs): then we hold a
		// lock on nothing. Retry.
		if same, err := sameFile(f, path); err != nil || !same {
			f.Close()
			continue
		}
		// Say who holds the lock, for the message of the next process.
		if err := f.Truncate(0); err != nil {
			return errors.Join(badInput("cannot lock output folder %s: %w", o.dir, err), f.Close())
		}
		if _, err := fmt.Fprintf(f, "dsim process %d (since %s)\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339)); err != nil {
			return errors.Join(badInput("cannot lock output folder %s: %w", o.dir, err), f.Close())
		}
		o.lock = f
		return nil
	}
	return badInput("cannot lock output folder %s: its lock file keeps changing", o.dir)
}

func sameFile(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// unlock removes the lock file and releases the lock, in that order, so
// that a process waiting on the old file notices (sameFile) and retries.
// Windows cannot remove a file that is open: there the file goes once it
// is closed, unless another process opened it meanwhile (and keeps it).
func (o *outDir) unlock() error {
	if o.lock == nil {
		return nil
	}
	path := filepath.Join(o.dir, lockFile)
	rmErr := os.Remove(path)
	err := o.lock.Close()
	if rmErr != nil {
		rmErr = os.Remove(path)
	}
	o.lock = nil
	return errors.Join(rmErr, err)
}
