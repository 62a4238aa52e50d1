package transport

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestConfigBadInput checks that every impossible setting is reported at
// its yaml path.
func TestConfigBadInput(t *testing.T) {
	cases := []struct {
		yaml, path, msg string
	}{
		{"kind: carrier_pigeon", "", `unknown transport "carrier_pigeon"`},
		{"http: http4", "", `unknown HTTP version "http4"`},
		{"tls: '1.4'", "", `unknown TLS version "1.4"`},
		{"congestion: vegas", "", `unknown congestion control "vegas"`},
		{"kind: tcp\npool: {size: 0}", "pool.size", "must be in [1, 10000]"},
		{"kind: tcp\nreceive_window_bytes: 1000", "receive_window_bytes", "at least one segment"},
		{"kind: tcp\nports: {min: 40000, max: 39999}", "ports", "is empty"},
		{"http: http3\ntls: '1.2'", "tls", "quic always uses TLS 1.3"},
		{"kind: tcp\nhttp: http3", "http", "http3 runs over quic"},
		{"kind: datagram\nhttp: http2", "http", "needs a stream transport"},
		{"kind: tcp\nzero_rtt: true", "zero_rtt", "needs resume"},
		{"kind: tcp\nmsl: -1s", "msl", "must not be negative"},
		{"kind: tcp\nencoding: {name: xml}", "encoding.name", `unknown encoding "xml"`},
		{"kind: tcp\nkeep_alive: {idle: 1s, probes: 0}", "keep_alive.probes", "at least 1"},
		{"kind: tcp\nbogus: 1", "", `field bogus not found`},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		err := decodeKnown(tc.yaml, &c)
		if err == nil {
			err = c.Validate()
		}
		if err == nil {
			t.Errorf("%q: no error", tc.yaml)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) || tc.path != "" && !strings.Contains(err.Error(), tc.path+": ") {
			t.Errorf("%q: error %q, want %q at %q", tc.yaml, err, tc.msg, tc.path)
		}
	}
	ok := []string{"", "http: http1", "http: http3\nzero_rtt: true\nresume: true", "kind: tcp\ntls: '1.2'\npool: {mode: per_request}", "kind: tcp\npool: {size: 3}"}
	for _, y := range ok {
		c := DefaultConfig()
		if err := decodeKnown(y, &c); err != nil {
			t.Errorf("%q: %v", y, err)
		} else if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", y, err)
		}
	}
	d := DNSConfig{TTL: -time.Second}
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "ttl: must not be negative") {
		t.Errorf("negative TTL: %v", err)
	}
}

// decodeKnown decodes src over out, refusing unknown keys (the experiment
// loader reports those with their place in the file).
func decodeKnown(src string, out any) error {
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// TestResolved checks the defaults each HTTP version implies.
func TestResolved(t *testing.T) {
	cases := []struct {
		http   HTTP
		kind   Kind
		pool   int
		header int
	}{
		{NoHTTP, Datagram, 1, 0},
		{HTTP1, TCP, 6, 300},
		{HTTP2, TCP, 1, 40},
		{GRPC, TCP, 1, 40},
		{HTTP3, QUIC, 1, 40},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		c.HTTP = tc.http
		r := c.Resolved()
		if r.Kind != tc.kind || r.Pool.Size != tc.pool || r.HeaderBytes != tc.header {
			t.Errorf("%v: kind %v pool %d header %d, want %v %d %d", tc.http, r.Kind, r.Pool.Size, r.HeaderBytes, tc.kind, tc.pool, tc.header)
		}
	}
}
