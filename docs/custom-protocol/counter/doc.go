// Package counter is a small protocol family: clients ask a server to
// increment a number and time the answer, giving up after a timeout.
//
// Metrics: counters increments_sent, increments_ok, increments_timed_out;
// histogram latency (request to answer). Run scalars: success_ratio.
// Invariant: answers_match_requests (no more answers than requests).
package counter
