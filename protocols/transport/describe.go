package transport

import "github.com/dsim-dev/dsim/protocols"

// Metrics lists the metrics a Layer records (doc.go describes them), with
// their kinds, titles, units and labels, for the families that run over
// a transport: they declare them when a hop uses one. The last,
// server_cpu_busy_ratio, is a run scalar the family reports from
// Layer.ServerCPUBusyRatio.
func Metrics() []protocols.MetricInfo {
	causes := make([]string, 0, numCauses)
	for c := Cause(0); c < numCauses; c++ {
		causes = append(causes, c.String())
	}
	return []protocols.MetricInfo{
		{Name: MetricHandshakeTime, Kind: protocols.HistogramMetric, Title: "Handshake time", Unit: "ms"},
		{Name: MetricTTFB, Kind: protocols.HistogramMetric, Title: "Time to first byte", Unit: "ms"},
		{Name: MetricHOLStallTime, Kind: protocols.HistogramMetric, Title: "Head-of-line stall", Unit: "ms"},
		{Name: MetricConnectionsOpened, Kind: protocols.CounterMetric, Title: "Connections opened"},
		{Name: MetricConnectionsReused, Kind: protocols.CounterMetric, Title: "Requests on a reused connection"},
		{Name: MetricTimeWait, Kind: protocols.GaugeMetric, Title: "Connections in TIME_WAIT", Unit: "connections"},
		{Name: MetricPortExhaustion, Kind: protocols.CounterMetric, Title: "Connects without a free port"},
		{Name: MetricRetransmits, Kind: protocols.CounterMetric, Title: "Retransmitted segments"},
		{Name: MetricBytesOnWire, Kind: protocols.CounterMetric, Title: "Bytes on the wire", Unit: "bytes"},
		{Name: MetricDNSLookups, Kind: protocols.CounterMetric, Title: "DNS lookups"},
		{Name: MetricDNSStaleFailures, Kind: protocols.CounterMetric, Title: "Requests failed at a stale address"},
		{Name: MetricFailures, Kind: protocols.CounterMetric, Title: "Connection failures",
			Labels: []protocols.MetricLabel{{Key: "cause", Values: causes}}},
		{Name: MetricServerCPUBusy, Kind: protocols.ScalarMetric, Title: "Server CPU busy with serialization", Unit: "fraction"},
	}
}
