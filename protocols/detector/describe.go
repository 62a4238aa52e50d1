package detector

import "github.com/dsim-dev/dsim/protocols"

var _ protocols.Describer = Protocol{}

// TrackerMetrics are the titles and units of the figures a Tracker
// reports (detection, mistakes, load, convergence), shared by every
// membership family that uses one.
func TrackerMetrics() []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricDetectFirst, Title: "Time to first detection", Unit: "s", Headline: true},
		{Name: MetricDetectAll, Title: "Time until every member declared it dead", Unit: "s", Headline: true},
		{Name: MetricFalseDeathRate, Title: "False deaths per member-hour", Unit: "per member-hour", Headline: true},
		{Name: MetricMsgs, Title: "Messages per member per period", Headline: true},
		{Name: MetricFalseSuspicionRate, Title: "False suspicions per member-hour", Unit: "per member-hour"},
		{Name: MetricFalseDeathPerPeriod, Title: "False deaths per member per period"},
		{Name: MetricFalseSuspicions, Title: "False suspicions"},
		{Name: MetricFalseDeaths, Title: "False deaths"},
		{Name: MetricBytes, Title: "Bytes per member per period", Unit: "bytes"},
		{Name: MetricMsgsMax, Title: "Messages per member per period (busiest member)"},
		{Name: MetricBytesMax, Title: "Bytes per member per period (busiest member)", Unit: "bytes"},
		{Name: MetricConverge, Title: "Time to converge", Unit: "s"},
		{Name: MetricCrashes, Title: "Crashes"},
		{Name: MetricUndetected, Title: "Crashes never detected"},
	}
}

// Metrics returns the titles and units of the family's metrics.
func (Protocol) Metrics() []protocols.MetricInfo { return TrackerMetrics() }
