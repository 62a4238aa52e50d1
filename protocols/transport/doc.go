// Package transport is the layer between a protocol family and the
// network: datagrams (each message one network message, as without the
// layer), TCP-like reliable streams and QUIC, with TLS 1.2/1.3
// handshakes, connection pools, TIME_WAIT and ephemeral ports, HTTP/1.1,
// HTTP/2, HTTP/3 and gRPC, payload encodings with serialization CPU, and
// service discovery by DNS. Streams are simulated segment by segment on
// top of sim.Env.Send, so the network model still decides every
// segment's latency, loss, bandwidth and partitioning.
//
// A run has one Layer; each node makes an Endpoint in its Start and one
// Hop per downstream service; the node routes Segments and its
// transport timers to the Endpoint, and the Endpoint hands reassembled
// messages and failures back through the Handler interface:
//
//	l := transport.NewLayer(engine, warmup, 100*time.Millisecond) // once per run
//
//	func (n *node) Start(env sim.Env) {
//		n.ep = l.NewEndpoint(env, n, 15, incarnation) // timer tags with kind 15 are the transport's
//		cfg := transport.DefaultConfig()
//		cfg.HTTP, cfg.TLS = transport.HTTP2, transport.TLS13
//		cfg = cfg.Resolved()
//		n.hop = n.ep.NewHop(env, &cfg, "api")
//	}
//	func (n *node) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
//		if s, ok := m.(*transport.Segment); ok {
//			n.ep.Receive(env, from, s) // calls n.Deliver / n.Failed
//			return
//		}
//		n.Deliver(env, from, m) // a datagram
//	}
//	func (n *node) Timer(env sim.Env, tag uint64) {
//		if tag>>60 == 15 {
//			n.ep.Timer(env, tag&(1<<60-1))
//		}
//	}
//	n.hop.Request(env, server, id, req)         // client: a request
//	if !n.ep.Respond(env, client, id, resp) {   // server: the answer, on the
//		env.Send(client, resp)                   // request's connection
//	}
//	n.hop.Abandon(env, server, id)              // the caller timed out
//	n.ep.Forget(client, id)                     // the server drops a request unanswered
//
// Segments are recycled: once Receive returns, and every copy the network
// made of it has been delivered or dropped, a Segment carries another
// packet, so a node must not keep one (an observer must read what it
// needs during OnEvent). The layer's shim in front of the network counts
// the copies a network schedules with Engine.Deliver in its Send (and
// re-queues in Arrive), as sim.Direct and netmodel do.
//
// Package rpc does exactly this per hop (CallConfig.Transport), so every
// rpc feature — retries, budgets, breakers, hedging, balancing — runs over
// any transport; docs/transports.md describes the model and its limits.
//
// # Model
//
// TCP: a SYN, SYN-ACK, ACK handshake (the client sends data after 1 RTT,
// the server sees it at 1.5 RTT); SYNs resent after rto_initial with
// doubling, syn_retries times. Data is cut into segments of up to
// mss_bytes, small messages packed together; every segment is numbered
// and acknowledged cumulatively, delayed ACKs ride on data when they can.
// RTT is measured from timestamps (RFC 7323) and the timeout follows RFC
// 6298 with backoff; three duplicate ACKs trigger a fast retransmit and
// NewReno recovery (RFC 6582), undone when the next ACK's timestamp shows
// the original arrived (Eifel, RFC 3522). The congestion window starts at
// initial_window, grows by slow start, then by Reno (one segment per RTT)
// or CUBIC (RFC 8312), and shrinks by 0.5 or 0.7 on loss, to 1 on a
// timeout; the receive window caps the segments in flight. The receiver
// delivers in order, so a lost segment holds up every message behind it
// (head-of-line blocking, hol_stall_time). QUIC shares the machinery but
// delivers each message (stream) as soon as its own segments are in, and
// its handshake is one round trip with TLS 1.3 included.
//
// Connections: a process crash answers segments with resets (refused
// while connecting, reset when open); a machine crash is silent, leaving
// half-open connections that keep-alive probes or retransmission limits
// find. Closing first holds a TIME_WAIT for 2×MSL and its ephemeral port;
// a client address with no free port fails new connections. HTTP/1.1
// carries one request per connection at a time, up to pool.size (6)
// connections per server; HTTP/2, gRPC and HTTP/3 multiplex up to
// pool.max_streams requests on each connection.
//
// # Metrics
//
// Names follow package results; histograms give _p50_ms and the like,
// counters a total and _rps, gauges _last, _max, _mean and a time series.
//
//	handshake_time                  histogram: connect to ready to send (TCP + TLS, or QUIC)
//	ttfb                            histogram: request handed over to first response byte
//	hol_stall_time                  histogram: wait of a complete message behind a lost one
//	connections_opened              counter: connections attempted
//	connections_reused              counter: requests sent on a connection that carried one before
//	time_wait                       gauge: connections in TIME_WAIT, all nodes, every 100ms
//	port_exhaustion_errors          counter: connects that found no free ephemeral port
//	retransmits                     counter: segments (and SYNs) sent again
//	bytes_on_wire                   counter: bytes of every segment sent, headers included
//	dns_lookups                     counter: resolver queries
//	dns_stale_failures              counter: requests failed at an address DNS no longer lists
//	connection_failures{cause=C}    counter: refused, reset, timeout, half_open,
//	                                port_exhaustion, dns
//	server_cpu_busy_ratio           end of run: servers' serialization CPU ÷ (span × servers)
package transport
