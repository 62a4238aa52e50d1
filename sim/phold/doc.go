// Package phold is the PHOLD benchmark, the standard workload for comparing
// discrete-event engines (Fujimoto, "Performance of Time Warp under
// synthetic workloads", 1990). N logical processes each start with M
// events; handling an event schedules one new event at a uniformly random
// process after Lookahead + Exp(Mean). The number of pending events stays
// N×M, so the workload measures the engine's queue and dispatch cost.
//
//	res, err := phold.Run(phold.Config{LPs: 1000, PerLP: 1, Events: 5e6,
//		Lookahead: time.Microsecond, Mean: time.Millisecond, Seed: 1})
//	fmt.Println(res.Events, res.Hash)
//
// Heap is the reference the engine is measured against: the same number
// of pending events on a bare 4-ary heap with no engine around it.
//
//	h, err := phold.NewHeap(cfg) // LPs×PerLP entries queued
//	ref := h.Run(cfg.Events)
package phold
