package experiments

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/rpc"
	"github.com/dsim-dev/dsim/protocols/transport"
)

// rpcHead starts an rpc experiment whose services section follows.
const rpcHead = `name: typo
duration: 5s
nodes: [client-1, api-1, db-1]
protocol:
  name: rpc
  client: {service: api}
  services:
`

// problemsOf parses src and returns its problems as "line:col path: msg".
func problemsOf(t *testing.T, src string, sets ...string) []string {
	t.Helper()
	_, err := Parse("t.yaml", []byte(src), Options{Sets: sets})
	if err == nil {
		return nil
	}
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, ErrBadInput) {
		t.Fatalf("error %v is not a *LoadError", err)
	}
	var out []string
	for _, p := range le.Problems {
		out = append(out, itoa(p.Line)+":"+itoa(p.Column)+" "+p.Path+": "+p.Msg)
	}
	return out
}

// TestRPCBadInput: a mistake anywhere in an rpc experiment (a service, a
// call, the client, a variant, a transport, a sweep value, a
// distribution, the network's too) is reported alone, at its own line and
// column, with a suggestion, and without follow-on errors: neither about
// the service it sits in nor about the field it was meant to be.
func TestRPCBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"typo in a call", rpcHead + `    api:
      workers: 4
      calls:
        - service: db
          timeoutt: 50ms
    db: {}
`, []string{`12:11 protocol.services.api.calls[0].timeoutt: unknown field "timeoutt" (did you mean "timeout"?)`}},
		{"typo in a service", rpcHead + "    api: {workerz: 4, calls: [db]}\n    db: {}\n", []string{
			`8:11 protocol.services.api.workerz: unknown field "workerz" (did you mean "workers"?)`}},
		{"typo in a section of a service", rpcHead + "    api: {errors: {rat: 0.5}}\n", []string{
			`8:20 protocol.services.api.errors.rat: unknown field "rat" (did you mean "rate"?)`}},
		{"typo in the client", "nodes: [client-1, api-1]\nprotocol:\n  name: rpc\n  services: {api: {}}\n  client: {service: api, deadlin: 1s}\n", []string{
			`5:26 protocol.client.deadlin: unknown field "deadlin" (did you mean "deadline"?)`}},
		{"typo in a retry policy", rpcHead + "    api: {calls: [{service: db, retry: {polcy: naive}}]}\n    db: {}\n", []string{
			`8:41 protocol.services.api.calls[0].retry.polcy: unknown field "polcy" (did you mean "policy"?)`}},
		{"typo in a variant", rpcHead + "    api: {}\n  variant: v\n  variants: {v: {timout: 1s}}\n", []string{
			`10:18 protocol.variants.v.timout: unknown field "timout" (did you mean "timeout"?)`}},
		{"typo in a transport", rpcHead + "    api: {calls: [{service: db, transport: {kind: tcp, msss_bytes: 1000}}]}\n    db: {}\n", []string{
			`8:56 protocol.services.api.calls[0].transport.msss_bytes: unknown field "msss_bytes" (did you mean "mss_bytes"?)`}},
		{"typo in a pool", rpcHead + "    api: {calls: [{service: db, transport: {http: http1, pool: {sise: 2}}}]}\n    db: {}\n", []string{
			`8:65 protocol.services.api.calls[0].transport.pool.sise: unknown field "sise" (did you mean "size"?)`}},
		{"bad transport value", rpcHead + "    api: {calls: [{service: db, transport: {kind: carrier_pigeon}}]}\n    db: {}\n", []string{
			`8:51 protocol.services.api.calls[0].transport.kind: unknown transport "carrier_pigeon" (one of: auto, datagram, tcp, quic)`}},
		{"bad value in a service", rpcHead + "    api: {fan_out: paralel, calls: [db]}\n    db: {}\n", []string{
			`8:20 protocol.services.api.fan_out: unknown fan-out mode "paralel" (did you mean "parallel"? one of: serial, parallel)`}},
		{"service not a mapping", rpcHead + "    api: 5\n", []string{
			`8:10 protocol.services.api: want a mapping of fields (replicas, nodes, workers, queue, queue_timeout, service_time, ...), got "5"`}},
		{"typo in a swept call list", rpcHead + "    api: {calls: [db]}\n    db: {}\nsweep:\n  protocol.services.api.calls: [[db], [{service: db, hegde: {max: 1}}]]\n", []string{
			`11:54 sweep.protocol.services.api.calls[1][0].hegde: unknown field "hegde" (did you mean "hedge"?)`}},
		{"typo in a distribution", rpcHead + "    api: {service_time: {dist: exponential, maen: 1ms}}\n", []string{
			`8:45 protocol.services.api.service_time.maen: unknown field "maen" (did you mean "mean"?)`}},
		{"typo in the network's latency", "nodes: [client-1, api-1]\nnetwork:\n  latency: {dist: lognormal, medain: 1ms, p99: 5ms}\nprotocol:\n  name: rpc\n  services: {api: {}}\n  client: {service: api}\n", []string{
			`3:30 network.latency.medain: unknown field "medain" (did you mean "median"?)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problemsOf(t, tc.src)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestRPCDecode: defaults fill every service, call and variant; a bare
// service name is a call; a preset's values come first and the hop's own
// fields override them.
func TestRPCDecode(t *testing.T) {
	x := mustParse(t, rpcHead+`    api:
      workers: 4
      calls:
        - db
        - {service: db, preset: aws_standard, retry: {max_attempts: 5}, transport: {http: http1, pool: {size: 2}}}
    db: {}
  variant: v
  variants: {v: {timeout: 50ms}}
`)
	c := x.Config.Protocol.Config.(*rpc.Config)
	api, db := c.Services["api"], c.Services["db"]
	if api.Workers != 4 || api.Queue != 100 || db.Workers != 16 || db.ServiceTime.Mean != time.Millisecond {
		t.Errorf("service defaults not filled: api %+v, db %+v", api, db)
	}
	plain, preset := api.Calls[0], api.Calls[1]
	if plain.Service != "db" || plain.Count != 1 || plain.Budget.TokenRatio != retry.DefaultBudgetConfig().TokenRatio || plain.Transport.MSSBytes != 1448 {
		t.Errorf("bare call: %+v", plain)
	}
	if preset.Retry.MaxAttempts != 5 || preset.Retry.Kind != retry.Exponential || preset.Budget.Kind != retry.Quota || preset.Budget.Capacity != 500 {
		t.Errorf("preset with an override: %+v", preset)
	}
	if preset.Transport.HTTP != transport.HTTP1 || preset.Transport.Pool.Size != 2 || preset.Transport.Pool.IdleTimeout != 90*time.Second {
		t.Errorf("transport: %+v", preset.Transport)
	}
	if r := c.Resolved(); r.Services["api"].Calls[0].Timeout != 50*time.Millisecond {
		t.Errorf("variant not applied: %+v", r.Services["api"].Calls[0])
	}
}
