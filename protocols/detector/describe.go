package detector

import "github.com/dsim-dev/dsim/protocols"

var (
	_ protocols.Describer      = Protocol{}
	_ protocols.MetricDeclarer = (*Config)(nil)
)

// TrackerMetrics are the run scalars a Tracker reports (detection,
// mistakes, load, convergence) with their titles and units, shared by
// every membership family that uses one; detection, false deaths and
// messages per period are headline figures.
func TrackerMetrics() []protocols.MetricInfo {
	s := protocols.ScalarMetric
	return []protocols.MetricInfo{
		{Name: MetricDetectFirst, Kind: s, Title: "Time to first detection", Unit: "s", Headline: true},
		{Name: MetricDetectAll, Kind: s, Title: "Time until every member declared it dead", Unit: "s", Headline: true},
		{Name: MetricFalseDeathRate, Kind: s, Title: "False deaths per member-hour", Unit: "per member-hour", Headline: true},
		{Name: MetricMsgs, Kind: s, Title: "Messages per member per period", Headline: true},
		{Name: MetricFalseSuspicionRate, Kind: s, Title: "False suspicions per member-hour", Unit: "per member-hour"},
		{Name: MetricFalseDeathPerPeriod, Kind: s, Title: "False deaths per member per period"},
		{Name: MetricFalseSuspicions, Kind: s, Title: "False suspicions"},
		{Name: MetricFalseDeaths, Kind: s, Title: "False deaths"},
		{Name: MetricBytes, Kind: s, Title: "Bytes per member per period", Unit: "bytes"},
		{Name: MetricMsgsMax, Kind: s, Title: "Messages per member per period (busiest member)"},
		{Name: MetricBytesMax, Kind: s, Title: "Bytes per member per period (busiest member)", Unit: "bytes"},
		{Name: MetricConverge, Kind: s, Title: "Time to converge", Unit: "s"},
		{Name: MetricCrashes, Kind: s, Title: "Crashes"},
		{Name: MetricUndetected, Kind: s, Title: "Crashes never detected"},
		{Name: MetricDetectFirstMax, Kind: s, Title: "Time to first detection (slowest crash)", Unit: "s"},
		{Name: MetricDetectAllMax, Kind: s, Title: "Time until every member declared it dead (slowest crash)", Unit: "s"},
		{Name: MetricConvergeMax, Kind: s, Title: "Time to converge (slowest)", Unit: "s"},
		{Name: MetricUnconverged, Kind: s, Title: "Changes never converged"},
	}
}

// metrics is the family's one list of metrics: the Tracker's scalars,
// recorded by every run whatever the config (c may be nil).
func metrics(*Config) []protocols.MetricInfo { return TrackerMetrics() }

// Metrics returns the titles and units of the family's metrics.
func (Protocol) Metrics() []protocols.MetricInfo { return metrics(nil) }

// Metrics declares every metric a detector run records, so that the
// loader can refuse a check or plot that names another.
func (c *Config) Metrics() []protocols.MetricInfo { return metrics(c) }
