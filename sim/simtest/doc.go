// Package simtest holds what dsim's tests share: golden files, which the
// -rewrite flag regenerates, compared with a line diff on a mismatch.
//
//	func TestGoldenTrace(t *testing.T) {
//		got := traceOfAShortRun(t)
//		simtest.Golden(t, filepath.Join("testdata", "trace.golden"), got)
//	}
//
// After an intended change of behaviour, regenerate a package's golden
// files and review what changed:
//
//	go test ./netmodel -run Golden -rewrite
//	git diff netmodel/testdata
//
// The package registers -rewrite on the test binary's flag set, so a test
// package that imports it must not declare its own. It uses only the
// standard library, so that sim's own tests can import it.
package simtest
