package experiments

import (
	"context"
	"testing"
)

// BenchmarkDeliveryCompare runs the bundled delivery-compare experiment
// (5 semantics × 9 failure cases × 3 seeds) on one worker and reports
// simulated messages per wall second, history recorded and checked.
//
//	go test ./experiments -run '^$' -bench DeliveryCompare -benchtime 3x
func BenchmarkDeliveryCompare(b *testing.B) {
	x, err := Load("delivery-compare", Options{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := 0.0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), x, RunOptions{Parallel: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, rr := range res.Runs {
			for _, m := range rr.Run.Metrics {
				if m.Name == "messages_submitted" {
					msgs += m.Value
				}
			}
		}
	}
	if msgs == 0 {
		b.Fatal("no messages counted")
	}
	b.ReportMetric(msgs/b.Elapsed().Seconds(), "msgs/s")
}
