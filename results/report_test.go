package results

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromiumFlags run Debian's chromium without a sandbox, GPU, network
// chatter or a first-run profile, so it works in CI containers.
func chromiumFlags(profile string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile}
}

// browserNames are the usual names of Chromium and Chrome on Linux,
// macOS and Windows, tried in order after $CHROME_PATH.
var browserNames = []string{
	"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
	"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
	"/Applications/Chromium.app/Contents/MacOS/Chromium",
	`C:\Program Files\Google\Chrome\Application\chrome.exe`,
}

// chromium returns the path of a headless-capable Chromium or Chrome, or
// fails the test: the report's browser check is part of the suite, not
// optional.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := findBrowser(os.Getenv("CHROME_PATH"), exec.LookPath)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// findBrowser picks the browser: env (a path or a name) when set, else the
// first of browserNames that look finds.
func findBrowser(env string, look func(string) (string, error)) (string, error) {
	if env != "" {
		p, err := look(env)
		if err != nil {
			return "", fmt.Errorf("CHROME_PATH=%s: %v", env, err)
		}
		return p, nil
	}
	for _, name := range browserNames {
		if p, err := look(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium or Chrome found (tried %s): the report test loads report.html in a headless browser. "+
		"Install one (Debian: `make deps` or apt-get install chromium; macOS: install Google Chrome) or set CHROME_PATH to its binary", strings.Join(browserNames[:5], ", "))
}

func TestFindBrowser(t *testing.T) {
	have := map[string]bool{"google-chrome": true, "/opt/chrome/chrome": true}
	look := func(name string) (string, error) {
		if have[name] {
			return name, nil
		}
		return "", fmt.Errorf("not found")
	}
	for _, tc := range []struct{ env, want string }{
		{"", "google-chrome"},
		{"/opt/chrome/chrome", "/opt/chrome/chrome"},
		{"/nope", ""},
	} {
		got, err := findBrowser(tc.env, look)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("CHROME_PATH=%q: %q, %v", tc.env, got, err)
		}
	}
	if _, err := findBrowser("", func(string) (string, error) { return "", fmt.Errorf("no") }); err == nil || !strings.Contains(err.Error(), "CHROME_PATH") {
		t.Errorf("no browser: %v", err)
	}
}

// writeReportFixture writes the fixture experiment with a timeline into a
// fresh folder and returns it.
func writeReportFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultTimelineConfig()
	tl := timelineRun(cfg)
	if err := tl.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	set := fixtureSet()
	set.Manifest.Plots = fixturePlots()
	set.Manifest.Notes = []string{"fixture data for the report test"}
	set.Manifest.Headline = []string{"latency_p99_ms", "attempts_rps"}
	set.Manifest.Metrics = []MetricInfo{{Name: "latency", Title: "Request latency", Unit: "ms"}}
	if err := Write(dir, set); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReportRendersInChromium loads report.html in headless Chromium and
// checks that the page it renders has every section, one decodable
// inline image per plot, the inline timeline and no script errors.
func TestReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	dir := writeReportFixture(t)
	page := filepath.Join(dir, ReportFile)
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	// One small inline script filters the full table; nothing is loaded.
	if n := bytes.Count(raw, []byte("<script")); n != 1 || bytes.Contains(raw, []byte("<script src")) {
		t.Errorf("report.html has %d scripts, want the one inline table filter", n)
	}
	if bytes.Contains(raw, []byte("http://")) || bytes.Contains(raw, []byte("https://")) {
		for _, m := range regexp.MustCompile(`https?://[^"' >]+`).FindAll(raw, -1) {
			if !bytes.HasPrefix(m, []byte("http://www.w3.org/")) {
				t.Errorf("report.html loads %s: it must be self-contained", m)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The #filter= fragment pre-fills the table filter, so the dumped DOM
	// shows the filter at work.
	args := append(chromiumFlags(t.TempDir()), "--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+page+"#filter=p99")
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium --dump-dom: %v\n%s", err, stderr.String())
	}
	dom := stdout.String()
	for _, want := range []string{
		`<h1 id="title">retry-storm</h1>`,
		`id="description"`,
		`id="summary-table"`,
		`latency_p99_ms`,
		`id="coverage-table"`,
		`id="timeline"`,
		`class="lifeline"`,
		`id="config"`,
		`network.loss: [0, 0.01, 0.05]`,
		`fixture data for the report test`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if strings.Contains(dom, `class="err"`) {
		t.Error("a plot failed to render")
	}
	// Headline figures, then plots, then coverage and the timeline; the
	// full table last.
	order := []string{`id="headline-table"`, `id="plots"`, `id="fault-coverage"`, `id="timeline"`, `id="summary-table"`}
	for i := 1; i < len(order); i++ {
		a, b := strings.Index(dom, order[i-1]), strings.Index(dom, order[i])
		if a < 0 || b < 0 || a > b {
			t.Errorf("%s should come before %s (at %d and %d)", order[i-1], order[i], a, b)
		}
	}
	if !strings.Contains(dom, "Request latency, p99") {
		t.Error("the headline table does not use the registered title")
	}
	// The filter hid the rows without "p99" and kept those with it.
	rows := regexp.MustCompile(`<tr( style="[^"]*")?><td class="name mono">([^<]+)</td>`).FindAllStringSubmatch(dom[strings.Index(dom, `id="summary-table"`):], -1)
	shown, hidden := 0, 0
	for _, r := range rows {
		if strings.Contains(r[1], "none") != !strings.Contains(r[2], "p99") {
			t.Errorf("row %s: style %q after filtering for p99", r[2], r[1])
		}
		if strings.Contains(r[1], "none") {
			hidden++
		} else {
			shown++
		}
	}
	if shown == 0 || hidden == 0 {
		t.Errorf("filter for p99: %d rows shown, %d hidden; want some of each", shown, hidden)
	}
	imgs := regexp.MustCompile(`<img src="data:image/png;base64,([^"]+)"`).FindAllStringSubmatch(dom, -1)
	if len(imgs) != len(fixturePlots()) {
		t.Errorf("%d inline images, want %d (one per plot)", len(imgs), len(fixturePlots()))
	}
	for i, m := range imgs {
		b, err := base64.StdEncoding.DecodeString(m[1])
		if err == nil {
			_, err = png.Decode(bytes.NewReader(b))
		}
		if err != nil {
			t.Errorf("image %d does not decode: %v", i+1, err)
		}
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Uncaught") {
			t.Errorf("browser console: %s", line)
		}
	}

	// A screenshot proves the page lays out and paints.
	shot := filepath.Join(t.TempDir(), "report.png")
	args = append(chromiumFlags(t.TempDir()), "--hide-scrollbars", "--window-size=1200,2400", "--screenshot="+shot, "file://"+page)
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 2400 {
		t.Errorf("screenshot is %v, want 1200×2400", b)
	}
	if dst := os.Getenv("DSIM_REPORT_SCREENSHOT"); dst != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(dst, data, 0o644)
	}
}

func TestFmtNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1.23456, "1.235"}, {0.000123456, "0.0001235"}, {17552.4, "17552"},
		{-250000, "-250000"}, {3e13, "3e+13"}, {math.NaN(), "–"},
	} {
		if got := fmtNum(tc.v); got != tc.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
