package deploy

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// loadJobs decodes the manifest's Jobs strictly into the Kubernetes API
// types: an unknown or misspelt field fails, as `kubectl apply
// --validate=strict` would.
func loadJobs(t *testing.T) (sweep, merge *batchv1.Job) {
	t.Helper()
	b, err := os.ReadFile("k8s-indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("want 2 documents (sweep and merge Jobs), got %d", len(docs))
	}
	var jobs [2]batchv1.Job
	for i, d := range docs {
		if err := yaml.UnmarshalStrict([]byte(d), &jobs[i]); err != nil {
			t.Fatalf("document %d: %v", i+1, err)
		}
		if jobs[i].APIVersion != "batch/v1" || jobs[i].Kind != "Job" {
			t.Fatalf("document %d is %s %s, want batch/v1 Job", i+1, jobs[i].APIVersion, jobs[i].Kind)
		}
		if n := len(jobs[i].Spec.Template.Spec.Containers); n != 1 {
			t.Fatalf("document %d has %d containers", i+1, n)
		}
	}
	return &jobs[0], &jobs[1]
}

func env(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

var varRef = regexp.MustCompile(`\$\(([A-Z_][A-Z0-9_]*)\)`)

// expand resolves $(VAR) in args the way the kubelet does for a
// container's command and args.
func expand(t *testing.T, args []string, vars map[string]string) []string {
	t.Helper()
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = varRef.ReplaceAllStringFunc(a, func(m string) string {
			v, ok := vars[m[2:len(m)-1]]
			if !ok {
				t.Fatalf("argument %q refers to %s, which the pod does not define", a, m)
			}
			return v
		})
	}
	return out
}

// TestKubernetesJobs checks the manifest against the API types and its
// own promises (one shard count everywhere, one image, no shell in a
// FROM-scratch image), then runs each pod's arguments with the locally
// built dsim and compares the merged folder with a single run.
func TestKubernetesJobs(t *testing.T) {
	sweepJob, mergeJob := loadJobs(t)
	if sweepJob.Spec.CompletionMode == nil || *sweepJob.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Fatal("the sweep Job is not Indexed")
	}
	n := int(*sweepJob.Spec.Completions)
	sc, mc := sweepJob.Spec.Template.Spec.Containers[0], mergeJob.Spec.Template.Spec.Containers[0]
	for what, got := range map[string]string{
		"sweep SHARDS": env(sc, "SHARDS"), "merge SHARDS": env(mc, "SHARDS"),
		"parallelism": fmt.Sprint(*sweepJob.Spec.Parallelism),
	} {
		if got != fmt.Sprint(n) {
			t.Errorf("%s is %q but completions is %d: the shard count must be the same everywhere", what, got, n)
		}
	}
	if sc.Image != mc.Image {
		t.Errorf("the Jobs use different images: %s and %s", sc.Image, mc.Image)
	}
	if len(sc.Command) != 0 || len(mc.Command) != 0 {
		t.Error("the image has no shell: give dsim's arguments in args and leave command to the entrypoint")
	}
	if env(sc, "EXPERIMENT") != env(mc, "EXPERIMENT") {
		t.Error("the Jobs name different experiments")
	}

	dir := t.TempDir()
	bin := buildDsim(t, dir)
	results := filepath.Join(dir, "results")
	local := func(args []string) []string {
		for i := range args {
			args[i] = strings.Replace(args[i], "/results", results, 1)
		}
		return args
	}
	exp := env(sc, "EXPERIMENT")
	for i := 0; i < n; i++ {
		args := local(expand(t, sc.Args, map[string]string{"EXPERIMENT": exp, "SHARDS": env(sc, "SHARDS"), "JOB_COMPLETION_INDEX": fmt.Sprint(i)}))
		if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("pod %d: dsim %v: %v\n%s", i, args, err, b)
		}
	}
	args := local(expand(t, mc.Args, map[string]string{"EXPERIMENT": exp, "SHARDS": env(mc, "SHARDS")}))
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("merge pod: dsim %v: %v\n%s", args, err, b)
	}
	full := filepath.Join(dir, "full")
	if b, err := exec.Command(bin, "run", exp, "--out", full, "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("single run: %v\n%s", err, b)
	}
	sameTree(t, full, filepath.Join(results, exp, "merged"))
}

// TestImage builds deploy/Containerfile with podman (installed by `make
// deps`) and checks what the image holds: one file, /dsim, a static
// binary that runs. Starting a container is not part of the test: this
// machine's sandbox refuses the runtime's cgroup and rlimit setup (crun:
// "cgroups in hybrid mode not supported"), so the binary is taken out of
// the saved image and run directly.
func TestImage(t *testing.T) {
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is needed to build the image (Debian: apt-get install podman; `make deps` installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "dsim-static")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/dsim")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, b)
	}
	tag := "localhost/dsim-deploy-test:" + filepath.Base(dir)
	if b, err := exec.Command("podman", "build", "-q", "-f", "Containerfile", "-t", tag, dir).CombinedOutput(); err != nil {
		t.Fatalf("podman build: %v\n%s", err, b)
	}
	defer exec.Command("podman", "rmi", "-f", tag).Run()
	archive := filepath.Join(dir, "image.tar")
	if b, err := exec.Command("podman", "save", "--format", "docker-archive", "-o", archive, tag).CombinedOutput(); err != nil {
		t.Fatalf("podman save: %v\n%s", err, b)
	}
	files := imageFiles(t, archive)
	if len(files) != 1 || files["dsim"] == nil {
		names := make([]string, 0, len(files))
		for n := range files {
			names = append(names, n)
		}
		t.Fatalf("the image holds %v, want only dsim", names)
	}
	out := filepath.Join(dir, "dsim-from-image")
	if err := os.WriteFile(out, files["dsim"], 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command(out, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "dsim") {
		t.Fatalf("the image's dsim: %v\n%s", err, b)
	}
	t.Logf("image: one file, %d bytes", len(files["dsim"]))
}

// imageFiles returns the regular files of every layer of a docker-archive.
func imageFiles(t *testing.T, archive string) map[string][]byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	outer := tar.NewReader(f)
	for {
		h, err := outer.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(h.Name, ".tar") && !strings.HasSuffix(h.Name, "/layer.tar") {
			continue
		}
		layer, err := io.ReadAll(outer)
		if err != nil {
			t.Fatal(err)
		}
		inner := tar.NewReader(bytes.NewReader(layer))
		for {
			lh, err := inner.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if lh.Typeflag == tar.TypeReg {
				data, _ := io.ReadAll(inner)
				files[strings.TrimPrefix(lh.Name, "./")] = data
			}
		}
	}
	return files
}
