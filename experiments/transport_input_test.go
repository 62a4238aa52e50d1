package experiments

import (
	"errors"
	"strings"
	"testing"
)

// TestTransportBadInput checks that impossible transport and DNS settings
// in an rpc experiment are reported at their file, line and field, as
// bad input (exit status 2 in cmd/dsim).
func TestTransportBadInput(t *testing.T) {
	head := "nodes: [client-1, api-1]\nprotocol:\n  name: rpc\n  services: {api: {}}\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown transport", "  client: {service: api, transport: {kind: carrier_pigeon}}\n", `test.yaml:5:44: protocol.client.transport.kind: unknown transport "carrier_pigeon"`},
		{"unknown HTTP version", "  client: {service: api, transport: {http: http4}}\n", `test.yaml:5:44: protocol.client.transport.http: unknown HTTP version "http4"`},
		{"pool size 0", "  client: {service: api, transport: {http: http1, pool: {size: 0}}}\n", "test.yaml:5:64: protocol.client.transport.pool.size: must be in [1, 10000]"},
		{"window below a segment", "  client: {service: api, transport: {kind: tcp, receive_window_bytes: 1000}}\n", "test.yaml:5:71: protocol.client.transport.receive_window_bytes: must hold at least one segment"},
		{"empty port range", "  client: {service: api, transport: {kind: tcp, ports: {min: 50000, max: 40000}}}\n", "protocol.client.transport.ports: the ephemeral port range [50000, 40000] is empty"},
		{"negative TTL", "  client: {service: api}\n  dns: {enabled: true, ttl: -1s}\n", "test.yaml:6:29: protocol.dns.ttl: must not be negative"},
		{"move of an unknown service", "  client: {service: api}\n  dns: {enabled: true, moves: [{service: db, at: 1s, to: [api-1]}]}\n", `protocol.dns.moves[0].service: moves undefined service "db"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(head+tc.src), Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant bad input with %q", err, tc.want)
			}
		})
	}
}
