package transport

import (
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Kind,HTTP,TLS,Congestion,PoolMode,Side,CrashMode -linecomment -output=config_string.go

// Kind is the transport a hop runs over.
type Kind uint8

// Transports.
const (
	// Auto is a datagram unless the HTTP version needs a stream: TCP for
	// http1, http2 and grpc, QUIC for http3.
	Auto Kind = iota // auto
	// Datagram sends each message as one network message: loss,
	// duplication and reordering reach the application.
	Datagram // datagram
	// TCP is a reliable, ordered byte stream with a 3-way handshake,
	// retransmission, congestion control and a receive window.
	TCP // tcp
	// QUIC is reliable streams over datagrams: a combined transport and
	// TLS 1.3 handshake of one round trip, and per-stream delivery, so a
	// lost packet holds up only the streams whose data it carried.
	QUIC // quic
)

// MarshalText returns the name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a name.
func (k *Kind) UnmarshalText(t []byte) error { return enum.Set(k, "transport", string(t)) }

// HTTP is the application protocol on a stream transport.
type HTTP uint8

// Application protocols.
const (
	// NoHTTP sends messages as they are: on TCP one byte stream carries
	// every message in order, like a custom binary protocol.
	NoHTTP HTTP = iota // none
	// HTTP1 is HTTP/1.1: one request at a time per connection (no
	// pipelining), so requests queue for a free connection, and text
	// headers on every request.
	HTTP1 // http1
	// HTTP2 multiplexes streams on one TCP connection with compressed
	// headers: no application head-of-line blocking, but one lost segment
	// stalls every stream behind it in TCP's byte order.
	HTTP2 // http2
	// HTTP3 is HTTP over QUIC: streams recover loss independently.
	HTTP3 // http3
	// GRPC is HTTP/2 with binary (Protocol Buffers) payloads.
	GRPC // grpc
)

// MarshalText returns the name.
func (h HTTP) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText parses a name.
func (h *HTTP) UnmarshalText(t []byte) error { return enum.Set(h, "HTTP version", string(t)) }

// multiplexed reports whether many requests share one connection.
func (h HTTP) multiplexed() bool { return h != HTTP1 }

// TLS is the TLS version on top of TCP (QUIC always runs TLS 1.3 inside).
type TLS uint8

// TLS versions.
const (
	// NoTLS is plain text: data follows the TCP handshake.
	NoTLS TLS = iota // none
	// TLS12 adds two round trips to a fresh connection (one when resuming
	// a session).
	TLS12 // 1.2
	// TLS13 adds one round trip (none with 0-RTT resumption).
	TLS13 // 1.3
)

// MarshalText returns the name.
func (v TLS) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses a name.
func (v *TLS) UnmarshalText(t []byte) error { return enum.Set(v, "TLS version", string(t)) }

// Congestion is a congestion-control algorithm.
type Congestion uint8

// Congestion-control algorithms.
const (
	// Reno: slow start, then one segment more per round trip, halving the
	// window on loss (RFC 5681, with NewReno recovery, RFC 6582).
	Reno Congestion = iota // reno
	// Cubic: the window grows as a cubic function of the time since the
	// last loss and shrinks to 0.7 of it on loss (RFC 8312).
	Cubic // cubic
)

// MarshalText returns the name.
func (c Congestion) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a name.
func (c *Congestion) UnmarshalText(t []byte) error {
	return enum.Set(c, "congestion control", string(t))
}

// PoolMode is how a client uses connections.
type PoolMode uint8

// Pool modes.
const (
	// Pooled keeps connections open and reuses them.
	Pooled PoolMode = iota // pooled
	// PerRequest opens a connection for each request and closes it once
	// the response came (HTTP/1.0 style).
	PerRequest // per_request
)

// MarshalText returns the name.
func (m PoolMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a name.
func (m *PoolMode) UnmarshalText(t []byte) error { return enum.Set(m, "pool mode", string(t)) }

// Side is one end of a connection.
type Side uint8

// Sides.
const (
	// ClientSide is the end that connected.
	ClientSide Side = iota // client
	// ServerSide is the end that accepted.
	ServerSide // server
)

// MarshalText returns the name.
func (s Side) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a name.
func (s *Side) UnmarshalText(t []byte) error { return enum.Set(s, "side", string(t)) }

// CrashMode is what a node crash looks like to its peers.
type CrashMode uint8

// Crash modes.
const (
	// ProcessCrash: the process dies but its host's kernel lives on, so
	// segments to it are answered with a reset: new connections are
	// refused and open ones reset on their next segment.
	ProcessCrash CrashMode = iota // process
	// MachineCrash: the whole machine goes silent; peers see timeouts,
	// and idle connections stay half-open until keep-alive probes or the
	// next request find out.
	MachineCrash // machine
)

// MarshalText returns the name.
func (m CrashMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a name.
func (m *CrashMode) UnmarshalText(t []byte) error { return enum.Set(m, "crash mode", string(t)) }

// PoolConfig is a client's connection management per server.
type PoolConfig struct {
	// Mode is pooled (reuse connections) or per_request (a new connection
	// for every request, closed after the response: every request pays
	// the handshakes and leaves a TIME_WAIT behind).
	Mode PoolMode `yaml:"mode"`
	// Size is the most connections a client keeps to one server (0 = the
	// HTTP version's default: 6 for http1, as browsers do, else 1). More
	// connections mean less queueing for http1 and more handshakes.
	Size int `yaml:"size"`
	// IdleTimeout closes a pooled connection unused for this long (0 =
	// never). Short timeouts free server memory but cost handshakes.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxStreams is the most requests in flight on one multiplexed
	// connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS, default 100).
	MaxStreams int `yaml:"max_streams"`

	sizeGiven bool // size was written in the file (so 0 is an error)
}

// UnmarshalYAML decodes the mapping's keys and remembers whether size
// was given. Keys are not checked here: the experiment loader checks every
// key against the struct's fields, with its place in the file.
func (p *PoolConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain PoolConfig
	if err := n.Decode((*plain)(p)); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "size" {
			p.sizeGiven = true
		}
	}
	return nil
}

// KeepAliveConfig configures keep-alive probes on idle connections, which
// find peers that died silently (half-open connections).
type KeepAliveConfig struct {
	// Idle is how long a connection is idle before the first probe (0 =
	// no probes; Linux: 2h).
	Idle time.Duration `yaml:"idle"`
	// Interval is the time between unanswered probes (Linux: 75s).
	Interval time.Duration `yaml:"interval"`
	// Probes is how many unanswered probes declare the peer dead (Linux:
	// 9).
	Probes int `yaml:"probes"`
}

// PortRange is the ephemeral port range of a client address.
type PortRange struct {
	// Min is the lowest ephemeral port (Linux: 32768).
	Min int `yaml:"min"`
	// Max is the highest ephemeral port (Linux: 60999).
	Max int `yaml:"max"`
}

// Size returns the number of ports in the range.
func (r PortRange) Size() int { return r.Max - r.Min + 1 }

// EncodingConfig is the payload encoding: it sets each message's size on
// the wire and the CPU time to encode it at the sender and decode it at
// the receiver.
type EncodingConfig struct {
	// Name is none (each message is 64 bytes, no CPU), json or protobuf;
	// json and protobuf fill bytes_per_field and cpu_per_byte when those
	// are 0.
	Name string `yaml:"name"`
	// RequestFields is the number of fields in a request.
	RequestFields int `yaml:"request_fields"`
	// ResponseFields is the number of fields in a response.
	ResponseFields int `yaml:"response_fields"`
	// BytesPerField is the encoded size of one field (json: 24, field
	// name, quotes and a short value as text; protobuf: 6, a tag byte and
	// a varint or short string).
	BytesPerField int `yaml:"bytes_per_field"`
	// CPUPerByte is the CPU time to encode or decode one byte, paid on
	// each end (json: 10ns, about 100 MB/s; protobuf: 2ns, about
	// 500 MB/s).
	CPUPerByte time.Duration `yaml:"cpu_per_byte"`
}

// Config is one hop's transport. The zero Kind (auto) with no HTTP version
// is a datagram: today's behaviour, byte for byte.
type Config struct {
	// Kind is auto, datagram, tcp or quic. Auto is a datagram without
	// http, TCP for http1/http2/grpc and QUIC for http3.
	Kind Kind `yaml:"kind"`
	// HTTP is the application protocol: none, http1, http2, http3 or
	// grpc.
	HTTP HTTP `yaml:"http"`
	// TLS is none, "1.2" or "1.3" (TCP only; QUIC has TLS 1.3 built in).
	TLS TLS `yaml:"tls"`
	// Resume reuses a session ticket from an earlier full handshake with
	// the same server: TLS 1.2 and 1.3 then take one round trip.
	Resume bool `yaml:"resume"`
	// ZeroRTT sends the request with the first flight when resuming (TLS
	// 1.3 or QUIC): no handshake wait at all.
	ZeroRTT bool `yaml:"zero_rtt"`
	// Congestion is reno or cubic.
	Congestion Congestion `yaml:"congestion"`
	// MSSBytes is the payload of one segment (1448 on Ethernet with TCP
	// timestamps).
	MSSBytes int `yaml:"mss_bytes"`
	// InitialWindow is the congestion window of a new connection in
	// segments (RFC 6928: 10).
	InitialWindow int `yaml:"initial_window"`
	// ReceiveWindowBytes caps the data in flight: one stream's throughput
	// is at most window ÷ RTT (10 Gbps × 100 ms needs 125 MB).
	ReceiveWindowBytes int `yaml:"receive_window_bytes"`
	// RTOInitial is the retransmission timeout before any RTT sample, and
	// the SYN retransmission timeout (RFC 6298: 1s).
	RTOInitial time.Duration `yaml:"rto_initial"`
	// RTOMin is the floor of the retransmission timeout (Linux: 200ms).
	RTOMin time.Duration `yaml:"rto_min"`
	// RTOMax caps the backed-off retransmission timeout (Linux: 120s).
	RTOMax time.Duration `yaml:"rto_max"`
	// SynRetries is how many times a SYN (or QUIC Initial) is resent
	// before the connection attempt times out (Linux: 6).
	SynRetries int `yaml:"syn_retries"`
	// MaxRetries is how many backed-off retransmissions of the same data
	// fail the connection with a timeout (Linux tcp_retries2: 15).
	MaxRetries int `yaml:"max_retries"`
	// DelayedAck is how long a receiver may hold an ACK hoping to
	// piggyback it (0 = acknowledge every segment at once; Linux: 40ms).
	DelayedAck time.Duration `yaml:"delayed_ack"`
	// Pool is the connection management.
	Pool PoolConfig `yaml:"pool"`
	// KeepAlive probes idle connections.
	KeepAlive KeepAliveConfig `yaml:"keep_alive"`
	// Closer is the side that closes a connection first, and so holds
	// it in TIME_WAIT for 2×MSL: client or server.
	Closer Side `yaml:"closer"`
	// MSL is the maximum segment lifetime; TIME_WAIT lasts 2×MSL (Linux:
	// 60s in all).
	MSL time.Duration `yaml:"msl"`
	// Ports is each client address's ephemeral port range; open and
	// TIME_WAIT connections each hold a port, and a connect finding none
	// free fails (port exhaustion).
	Ports PortRange `yaml:"ports"`
	// Crash is what a crash of the peer looks like: process (its kernel
	// answers with resets) or machine (silence).
	Crash CrashMode `yaml:"crash"`
	// Encoding sets payload sizes and serialization CPU.
	Encoding EncodingConfig `yaml:"encoding"`
	// HeaderBytes is the protocol header per request or response (0 = the
	// HTTP version's default: 300 for http1's text headers, 40 for the
	// compressed headers of http2, http3 and grpc, 0 without http).
	HeaderBytes int `yaml:"header_bytes"`
}

// DefaultConfig returns a datagram hop whose stream settings follow
// Linux's defaults: Reno, MSS 1448, initial window 10, a 4 MB receive
// window, RTO 1s initially and within [200ms, 120s], 6 SYN retries, 15
// data retries, 40ms delayed ACKs, pooled connections closed after 90s
// idle, TIME_WAIT of 60s, ports 32768–60999, process crashes.
func DefaultConfig() Config {
	return Config{
		MSSBytes:           1448,
		InitialWindow:      10,
		ReceiveWindowBytes: 4 << 20,
		RTOInitial:         time.Second,
		RTOMin:             200 * time.Millisecond,
		RTOMax:             120 * time.Second,
		SynRetries:         6,
		MaxRetries:         15,
		DelayedAck:         40 * time.Millisecond,
		Pool:               PoolConfig{IdleTimeout: 90 * time.Second, MaxStreams: 100},
		KeepAlive:          KeepAliveConfig{Interval: 75 * time.Second, Probes: 9},
		MSL:                30 * time.Second,
		Ports:              PortRange{Min: 32768, Max: 60999},
		Encoding:           EncodingConfig{Name: "none", RequestFields: 10, ResponseFields: 10},
	}
}

// Resolved returns the config with Kind and the HTTP defaults made
// explicit: the transport auto picks, the pool size, the header size and
// the encoding's per-field figures.
func (c Config) Resolved() Config {
	if c.Kind == Auto {
		switch c.HTTP {
		case NoHTTP:
			c.Kind = Datagram
		case HTTP3:
			c.Kind = QUIC
		default:
			c.Kind = TCP
		}
	}
	if c.Pool.Size == 0 {
		c.Pool.Size = 1
		if c.HTTP == HTTP1 {
			c.Pool.Size = 6
		}
	}
	if c.HeaderBytes == 0 {
		switch c.HTTP {
		case HTTP1:
			c.HeaderBytes = 300
		case HTTP2, HTTP3, GRPC:
			c.HeaderBytes = 40
		}
	}
	e := &c.Encoding
	switch e.Name {
	case "json":
		if e.BytesPerField == 0 {
			e.BytesPerField = 24
		}
		if e.CPUPerByte == 0 {
			e.CPUPerByte = 10 * time.Nanosecond
		}
	case "protobuf":
		if e.BytesPerField == 0 {
			e.BytesPerField = 6
		}
		if e.CPUPerByte == 0 {
			e.CPUPerByte = 2 * time.Nanosecond
		}
	}
	return c
}

// Stream reports whether the hop uses a connection (TCP or QUIC).
func (c Config) Stream() bool {
	k := c.Resolved().Kind
	return k == TCP || k == QUIC
}

// Validate reports every impossible setting at once, with yaml paths.
func (c Config) Validate() error {
	var fe sim.FieldErrors
	if c.Kind > QUIC {
		fe.Add("kind", "unknown transport %d", c.Kind)
	}
	if c.HTTP > GRPC {
		fe.Add("http", "unknown HTTP version %d", c.HTTP)
	}
	if c.TLS > TLS13 {
		fe.Add("tls", "unknown TLS version %d", c.TLS)
	}
	r := c.Resolved()
	switch {
	case r.Kind == Datagram && c.HTTP != NoHTTP:
		fe.Add("http", "%s needs a stream transport, not datagram", c.HTTP)
	case r.Kind == QUIC && c.HTTP != NoHTTP && c.HTTP != HTTP3:
		fe.Add("http", "%s runs over TCP; over quic use http3", c.HTTP)
	case r.Kind == TCP && c.HTTP == HTTP3:
		fe.Add("http", "http3 runs over quic, not tcp")
	}
	if r.Kind == Datagram {
		if c.TLS != NoTLS {
			fe.Add("tls", "TLS needs tcp (quic has TLS 1.3 built in)")
		}
		if c.Encoding.Name != "" && c.Encoding.Name != "none" {
			fe.Add("encoding.name", "encodings need a stream transport (tcp or quic)")
		}
	}
	if r.Kind == QUIC && c.TLS == TLS12 {
		fe.Add("tls", "quic always uses TLS 1.3")
	}
	if c.ZeroRTT && !c.Resume {
		fe.Add("zero_rtt", "0-RTT needs resume: true (it uses a session ticket)")
	}
	if c.ZeroRTT && r.Kind == TCP && c.TLS != TLS13 {
		fe.Add("zero_rtt", "0-RTT needs TLS 1.3 (or quic), got tls %s", c.TLS)
	}
	if c.Congestion > Cubic {
		fe.Add("congestion", "unknown congestion control %d", c.Congestion)
	}
	if c.MSSBytes < 64 || c.MSSBytes > 65000 {
		fe.Add("mss_bytes", "must be in [64, 65000], got %d", c.MSSBytes)
	}
	if c.InitialWindow < 1 || c.InitialWindow > 1000 {
		fe.Add("initial_window", "must be in [1, 1000] segments, got %d", c.InitialWindow)
	}
	if c.ReceiveWindowBytes < c.MSSBytes {
		fe.Add("receive_window_bytes", "must hold at least one segment (mss_bytes %d), got %d", c.MSSBytes, c.ReceiveWindowBytes)
	} else if c.MSSBytes > 0 && c.ReceiveWindowBytes/c.MSSBytes > 1<<20 {
		fe.Add("receive_window_bytes", "must be at most 2^20 segments, got %d bytes", c.ReceiveWindowBytes)
	}
	if c.RTOInitial <= 0 {
		fe.Add("rto_initial", "must be positive, got %v", c.RTOInitial)
	}
	if c.RTOMin <= 0 {
		fe.Add("rto_min", "must be positive, got %v", c.RTOMin)
	}
	if c.RTOMax < c.RTOMin || c.RTOMax < c.RTOInitial {
		fe.Add("rto_max", "must be at least rto_min and rto_initial, got %v", c.RTOMax)
	}
	if c.SynRetries < 0 || c.SynRetries > 20 {
		fe.Add("syn_retries", "must be in [0, 20], got %d", c.SynRetries)
	}
	if c.MaxRetries < 1 || c.MaxRetries > 30 {
		fe.Add("max_retries", "must be in [1, 30], got %d", c.MaxRetries)
	}
	if c.DelayedAck < 0 {
		fe.Add("delayed_ack", "must not be negative, got %v", c.DelayedAck)
	}
	if c.Pool.Mode > PerRequest {
		fe.Add("pool.mode", "unknown pool mode %d", c.Pool.Mode)
	}
	if c.Pool.Size < 0 || c.Pool.Size > 10000 || c.Pool.sizeGiven && c.Pool.Size == 0 {
		fe.Add("pool.size", "must be in [1, 10000] (leave it out for the HTTP version's default), got %d", c.Pool.Size)
	}
	if c.Pool.IdleTimeout < 0 {
		fe.Add("pool.idle_timeout", "must not be negative, got %v", c.Pool.IdleTimeout)
	}
	if c.Pool.MaxStreams < 1 {
		fe.Add("pool.max_streams", "must be at least 1, got %d", c.Pool.MaxStreams)
	}
	if c.KeepAlive.Idle < 0 {
		fe.Add("keep_alive.idle", "must not be negative, got %v", c.KeepAlive.Idle)
	}
	if c.KeepAlive.Idle > 0 && c.KeepAlive.Interval <= 0 {
		fe.Add("keep_alive.interval", "must be positive when probing, got %v", c.KeepAlive.Interval)
	}
	if c.KeepAlive.Idle > 0 && c.KeepAlive.Probes < 1 {
		fe.Add("keep_alive.probes", "must be at least 1 when probing, got %d", c.KeepAlive.Probes)
	}
	if c.Closer > ServerSide {
		fe.Add("closer", "unknown side %d", c.Closer)
	}
	if c.MSL < 0 {
		fe.Add("msl", "must not be negative, got %v", c.MSL)
	}
	if c.Ports.Min < 1 || c.Ports.Max > 65535 {
		fe.Add("ports", "must lie in [1, 65535], got [%d, %d]", c.Ports.Min, c.Ports.Max)
	} else if c.Ports.Max < c.Ports.Min {
		fe.Add("ports", "the ephemeral port range [%d, %d] is empty", c.Ports.Min, c.Ports.Max)
	}
	if c.Crash > MachineCrash {
		fe.Add("crash", "unknown crash mode %d", c.Crash)
	}
	e := c.Encoding
	switch e.Name {
	case "", "none", "json", "protobuf":
	default:
		fe.Add("encoding.name", "unknown encoding %q (want none, json or protobuf)", e.Name)
	}
	if e.RequestFields < 0 {
		fe.Add("encoding.request_fields", "must not be negative, got %d", e.RequestFields)
	}
	if e.ResponseFields < 0 {
		fe.Add("encoding.response_fields", "must not be negative, got %d", e.ResponseFields)
	}
	if e.BytesPerField < 0 {
		fe.Add("encoding.bytes_per_field", "must not be negative, got %d", e.BytesPerField)
	}
	if e.CPUPerByte < 0 {
		fe.Add("encoding.cpu_per_byte", "must not be negative, got %v", e.CPUPerByte)
	}
	if c.HeaderBytes < 0 {
		fe.Add("header_bytes", "must not be negative, got %d", c.HeaderBytes)
	}
	return fe.Err()
}
