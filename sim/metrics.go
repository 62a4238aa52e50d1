package sim

import "time"

// NopMetrics discards every measurement.
type NopMetrics struct{}

var _ Metrics = NopMetrics{}

// Counter returns a counter that discards its input.
func (NopMetrics) Counter(string) Counter { return nop{} }

// Gauge returns a gauge that discards its input.
func (NopMetrics) Gauge(string) Gauge { return nop{} }

// Histogram returns a histogram that discards its input.
func (NopMetrics) Histogram(string) Histogram { return nop{} }

type nop struct{}

func (nop) Add(int64)            {}
func (nop) Set(float64)          {}
func (nop) Record(time.Duration) {}
