package sim

import "time"

// Label is one dimension of a metric, such as tier=db: the same
// measurement taken for several tiers, statuses or nodes is one metric
// name with one label per dimension, not one name per value. Keys are
// snake_case.
type Label struct {
	Key, Value string
}

// NopMetrics discards every measurement.
type NopMetrics struct{}

var _ Metrics = NopMetrics{}

// Counter returns a counter that discards its input.
func (NopMetrics) Counter(string, ...Label) Counter { return nop{} }

// Gauge returns a gauge that discards its input.
func (NopMetrics) Gauge(string, ...Label) Gauge { return nop{} }

// Histogram returns a histogram that discards its input.
func (NopMetrics) Histogram(string, ...Label) Histogram { return nop{} }

type nop struct{}

func (nop) Add(int64)            {}
func (nop) Set(float64)          {}
func (nop) Record(time.Duration) {}
