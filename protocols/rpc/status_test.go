package rpc

import (
	"testing"

	"github.com/dsim-dev/dsim/protocols/retry"
)

// TestStatusClass pins the retry class of every status (Class reads a
// table; a status added without its entry would read as Success).
func TestStatusClass(t *testing.T) {
	for _, tc := range []struct {
		st   Status
		want retry.Class
	}{
		{OK, retry.Success},
		{BadRequest, retry.ClientError},
		{TooManyRequests, retry.Overload},
		{Internal, retry.Failure},
		{Unavailable, retry.Overload},
		{Timeout, retry.Timeout},
		{CircuitOpen, retry.Overload},
		{BulkheadFull, retry.Overload},
		{numStatus, retry.Failure},
	} {
		if got := tc.st.Class(); got != tc.want {
			t.Errorf("%v.Class() = %v, want %v", tc.st, got, tc.want)
		}
	}
	if len(statusClasses) != numStatus {
		t.Errorf("statusClasses has %d entries, want %d", len(statusClasses), numStatus)
	}
}
