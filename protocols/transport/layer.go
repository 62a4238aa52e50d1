package transport

import (
	"time"

	"github.com/dsim-dev/dsim/sim"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Cause -linecomment -output=layer_string.go

// Cause is why a request failed in the transport.
type Cause uint8

// Failure causes.
const (
	// Refused: the peer answered the connection attempt with a reset (its
	// process is down, its host is up).
	Refused Cause = iota // refused
	// Reset: the peer reset an open connection (it crashed and forgot it).
	Reset // reset
	// Timeout: the handshake or a retransmission ran out of retries.
	Timeout // timeout
	// HalfOpen: keep-alive probes found the peer gone.
	HalfOpen // half_open
	// PortExhaustion: no ephemeral port was free for a new connection.
	PortExhaustion // port_exhaustion
	// DNSFailure: the name could not be resolved (resolver down, or a
	// cached failure).
	DNSFailure // dns

	numCauses = iota // the number of causes (untyped: not a cause)
)

// Handler is the node an Endpoint serves: it gets the application
// messages that arrived and the requests that failed.
type Handler interface {
	// Deliver hands over an application message from a peer.
	Deliver(env sim.Env, from sim.NodeID, msg sim.Message)
	// Failed reports that request id to node to cannot be answered. It is
	// never called from inside a Hop method, only from Receive or Timer.
	Failed(env sim.Env, to sim.NodeID, id uint64, cause Cause)
}

// Metric names; doc.go describes them.
const (
	MetricHandshakeTime     = "handshake_time"
	MetricTTFB              = "ttfb"
	MetricConnectionsOpened = "connections_opened"
	MetricConnectionsReused = "connections_reused"
	MetricTimeWait          = "time_wait"
	MetricPortExhaustion    = "port_exhaustion_errors"
	MetricRetransmits       = "retransmits"
	MetricHOLStallTime      = "hol_stall_time"
	MetricBytesOnWire       = "bytes_on_wire"
	MetricServerCPUBusy     = "server_cpu_busy_ratio"
	MetricDNSStaleFailures  = "dns_stale_failures"
	MetricDNSLookups        = "dns_lookups"
	MetricFailures          = "connection_failures"
)

type metrics struct {
	handshake, ttfb, hol                                 sim.Histogram
	opened, reused, portExh, retx, bytes, stale, lookups sim.Counter
	timeWait                                             sim.Gauge
	fail                                                 [numCauses]sim.Counter
}

// Stats are a run's exact transport counts, for tests and end-of-run
// figures.
type Stats struct {
	ConnectionsOpened, ConnectionsReused, Retransmits, BytesOnWire int64
	PortExhaustion, DNSStaleFailures, DNSLookups                   int64
	Failures                                                       [numCauses]int64
	// HOLStalls counts messages that waited behind another's loss.
	HOLStalls int64
	// TimeWait is the TIME_WAIT count at the last sample.
	TimeWait int
	// ServerCPU is the serialization CPU time spent by servers (decoding
	// requests, encoding responses) after the warm-up.
	ServerCPU time.Duration
}

// Layer is the transport of one run: metrics, the endpoints of every
// node, which nodes listen, the DNS authority. Build one per run with
// NewLayer, then give each node an Endpoint in its Start.
type Layer struct {
	e         *sim.Engine
	m         metrics
	stats     Stats
	warmup    sim.Time
	eps       []*Endpoint // by node ID, the current incarnation's
	deaf      []bool      // by node ID: not listening (moved away)
	servers   map[sim.NodeID]bool
	DNS       *Authority
	sampleGap time.Duration
	segs      []*Segment // free segments (pool.go)
	dropped   []*Segment // segments to release at the next newSeg
	msgs      []*wireMsg // free messages
}

// NewLayer makes the transport layer of a run on e: it registers the
// metrics, samples the TIME_WAIT count every sample interval (100ms; 0
// means never) and, once the run starts, puts a shim in front of the
// network so that segments to a crashed node whose kernel lives on
// (Config.Crash process) are answered with a reset.
func NewLayer(e *sim.Engine, warmup, sample time.Duration) *Layer {
	m := e.Metrics()
	l := &Layer{e: e, warmup: sim.Time(warmup), sampleGap: sample, servers: map[sim.NodeID]bool{}}
	l.m = metrics{
		handshake: m.Histogram(MetricHandshakeTime),
		ttfb:      m.Histogram(MetricTTFB),
		hol:       m.Histogram(MetricHOLStallTime),
		opened:    m.Counter(MetricConnectionsOpened),
		reused:    m.Counter(MetricConnectionsReused),
		portExh:   m.Counter(MetricPortExhaustion),
		retx:      m.Counter(MetricRetransmits),
		bytes:     m.Counter(MetricBytesOnWire),
		stale:     m.Counter(MetricDNSStaleFailures),
		lookups:   m.Counter(MetricDNSLookups),
		timeWait:  m.Gauge(MetricTimeWait),
	}
	for c := Cause(0); c < numCauses; c++ {
		l.m.fail[c] = m.Counter(MetricFailures, sim.Label{Key: "cause", Value: c.String()})
	}
	l.m.timeWait.Set(0)
	e.At(0, func() {
		e.SetNetwork(&kernel{Network: e.Network(), e: e, l: l})
	})
	if sample > 0 {
		e.At(sim.Time(sample), l.sample)
	}
	return l
}

// Pending returns how many requests the servers' connections hold,
// delivered and neither answered nor forgotten; once a run has drained it
// is 0.
func (l *Layer) Pending() int {
	n := 0
	for _, ep := range l.eps {
		if ep == nil {
			continue
		}
		for _, cs := range ep.byPeer {
			for _, c := range cs {
				n += len(c.served)
			}
		}
		n += len(ep.lost)
	}
	return n
}

// Stats returns the run's counts so far.
func (l *Layer) Stats() *Stats { return &l.stats }

// SetListening makes node id answer (true) or ignore (false) every
// segment; a service moved away stops answering at its old addresses.
func (l *Layer) SetListening(id sim.NodeID, on bool) {
	for int(id) >= len(l.deaf) {
		l.deaf = append(l.deaf, false)
	}
	l.deaf[id] = !on
}

// Listening reports whether node id answers.
func (l *Layer) Listening(id sim.NodeID) bool {
	return int(id) >= len(l.deaf) || !l.deaf[id]
}

// MarkServer counts node id among the servers whose CPU busy ratio
// ServerCPUBusyRatio reports.
func (l *Layer) MarkServer(id sim.NodeID) { l.servers[id] = true }

// ServerCPUBusyRatio is the servers' serialization CPU time over the span
// after the warm-up, per server: 0.25 means each server spent a quarter
// of its time encoding and decoding.
func (l *Layer) ServerCPUBusyRatio(span time.Duration) float64 {
	if span <= 0 || len(l.servers) == 0 {
		return 0
	}
	return l.stats.ServerCPU.Seconds() / (span.Seconds() * float64(len(l.servers)))
}

func (l *Layer) sample() {
	now := l.e.Now()
	n := 0
	for _, ep := range l.eps {
		if ep != nil {
			ep.expireTW(now)
			n += ep.twCount()
		}
	}
	l.stats.TimeWait = n
	l.m.timeWait.Set(float64(n))
	l.e.At(now.Add(l.sampleGap), l.sample)
}

func (l *Layer) fail(c Cause) {
	l.m.fail[c].Add(1)
	l.stats.Failures[c]++
}

// kernel stands for the operating system of every host: a segment that
// reaches a node whose process is down is answered with a reset, as a
// live kernel with no listening socket does.
type kernel struct {
	sim.Network
	e *sim.Engine
	l *Layer
}

// Dropped answers segments to a crashed process with a reset.
func (k *kernel) Dropped(from, to sim.NodeID, msg sim.Message, cause sim.DropCause) {
	k.Network.Dropped(from, to, msg, cause)
	s, ok := msg.(*Segment)
	if !ok {
		return
	}
	if s.tracked {
		// The engine traces the drop after this returns: release later.
		if s.net--; s.net == 0 && !s.held {
			k.l.dropped = append(k.l.dropped, s)
		}
	}
	if cause != sim.DropCrashed || s.flags&fRST != 0 || s.cfg == nil || s.cfg.Crash != ProcessCrash {
		return
	}
	rst := &Segment{Conn: s.Conn, flags: fRST, wire: tcpOverhead, cfg: s.cfg}
	k.l.m.bytes.Add(int64(rst.wire))
	k.l.stats.BytesOnWire += int64(rst.wire)
	k.Network.Send(to, from, rst)
}
