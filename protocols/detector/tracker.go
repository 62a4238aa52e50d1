package detector

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/sim"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Opinion -linecomment -output=tracker_string.go

// Opinion is what one member currently thinks of another.
type Opinion uint8

// Opinions, from "never heard of it" to "declared dead".
const (
	// Unknown: the observer does not know the member (not joined yet, or
	// forgotten).
	Unknown Opinion = iota // unknown
	// Alive: the observer counts the member as a healthy member.
	Alive // alive
	// Suspect: the observer suspects the member but still counts it in.
	Suspect // suspect
	// Dead: the observer has declared the member dead (or left).
	Dead // dead
)

// in reports whether the opinion counts the member in the group.
func (o Opinion) in() bool { return o == Alive || o == Suspect }

// Run scalars reported by Tracker.Report; the names are stable.
const (
	// MetricDetectFirst is the mean span, over crashes, from a member's
	// crash to the first live member suspecting or declaring it (s).
	MetricDetectFirst = "detect_first_s"
	// MetricDetectAll is the mean span, over crashes, from a member's
	// crash until every live member watching it has declared it dead (s).
	MetricDetectAll = "detect_all_s"
	// MetricDetectFirstMax is the largest detect_first_s of the run.
	MetricDetectFirstMax = "detect_first_max_s"
	// MetricDetectAllMax is the largest detect_all_s of the run.
	MetricDetectAllMax = "detect_all_max_s"
	// MetricCrashes counts crashes of members during the run.
	MetricCrashes = "crashes"
	// MetricUndetected counts crashes that not every live watcher had
	// declared by the time the member restarted or the run ended.
	MetricUndetected = "crashes_undetected"
	// MetricFalseSuspicions counts accusations of members that were up
	// (running or paused): a member suspected by a first watcher while
	// no other watcher suspected it. Gossip spreading the same
	// suspicion does not add to it.
	MetricFalseSuspicions = "false_suspicions"
	// MetricFalseDeaths counts members declared dead by a first watcher
	// while they were up.
	MetricFalseDeaths = "false_deaths"
	// MetricFalseSuspicionRate is false_suspicions per member per hour.
	MetricFalseSuspicionRate = "false_suspicions_per_member_hour"
	// MetricFalseDeathRate is false_deaths per member per hour.
	MetricFalseDeathRate = "false_deaths_per_member_hour"
	// MetricFalseDeathPerPeriod is false_deaths per member per protocol
	// period (heartbeat interval, SWIM period).
	MetricFalseDeathPerPeriod = "false_death_per_member_period"
	// MetricMsgs is the mean over members of the messages each sent per
	// protocol period.
	MetricMsgs = "msgs_sent_per_member_per_period"
	// MetricMsgsMax is the largest per-member messages per period.
	MetricMsgsMax = "msgs_sent_per_member_per_period_max"
	// MetricBytes is the mean over members of the bytes each sent per
	// protocol period.
	MetricBytes = "bytes_sent_per_member_per_period"
	// MetricBytesMax is the largest per-member bytes per period.
	MetricBytesMax = "bytes_sent_per_member_per_period_max"
	// MetricConverge is the mean span from a join, a restart or the end
	// of a network fault (a partition heals) until every live member
	// agrees on who is in the group (s).
	MetricConverge = "converge_s"
	// MetricConvergeMax is the largest converge_s of the run.
	MetricConvergeMax = "converge_max_s"
	// MetricUnconverged counts joins, restarts and heals after which the
	// members had not agreed by the end of the run.
	MetricUnconverged = "converge_unresolved"
)

// episode is one crash of a member, open until it restarts.
type episode struct {
	target     int32
	crashed    sim.Time
	first, all time.Duration // -1 while not reached
	open       bool
	firstSeen  bool
	allReached bool
}

// Tracker is the ground-truth accountant shared by the failure detectors
// and SWIM. Protocols tell it each change of one member's opinion of
// another (View) and of group membership (Join, Leave); it watches the
// engine's crash, restart and fault records itself, so it knows the true
// state of every member without help from the fault schedule. From that
// it measures detection times, false suspicions and deaths, traffic per
// member and convergence.
//
// Memory is two bits per (observer, member) pair plus a few words per
// member: 25 MB for 10,000 members.
//
// The agreement rule: observer i is right about member t when it counts t
// in (Alive or Suspect) exactly when t is a live member (up, joined, not
// left). Paused members are up: a paused member is alive, only slow.
type Tracker struct {
	e        *sim.Engine
	n        int
	watch    func(i, t int) bool
	warmup   sim.Time
	ops      []uint64 // row-major, 2 bits per pair: i's Opinion of t
	member   []bool   // joined and not left (truth, ignoring crashes)
	up       []bool   // not crashed
	counted  []bool   // observer counts: up and member
	colWrong []int32  // per member: counted watchers that are wrong about it
	suspCnt  []int32  // per member: counted watchers that suspect it
	deadCnt  []int32  // per member: counted watchers that declared it dead
	wrong    int64

	episodes []episode
	open     []int32 // per member: index into episodes of its open crash, -1
	active   []int32 // episodes still waiting for every watcher to declare

	falseSusp, falseDeath int64
	msgs, bytes           []int64

	disturb   []sim.Time // open convergence episodes
	converged []time.Duration
}

// NewTracker returns a tracker of n members (node IDs 0..n-1) and
// registers it as an observer of e. watch says which (observer, member)
// pairs count for detection and agreement (nil: every pair); samples
// before warmup are left out of the false-positive and traffic figures.
func NewTracker(e *sim.Engine, n int, watch func(i, t int) bool, warmup time.Duration) *Tracker {
	if watch == nil {
		watch = func(i, t int) bool { return i != t }
	}
	tr := &Tracker{
		e: e, n: n, watch: watch, warmup: sim.Time(warmup),
		ops:    make([]uint64, (n*n+31)/32),
		member: make([]bool, n), up: make([]bool, n), counted: make([]bool, n),
		colWrong: make([]int32, n), suspCnt: make([]int32, n), deadCnt: make([]int32, n), open: make([]int32, n),
		msgs: make([]int64, n), bytes: make([]int64, n),
	}
	for i := range tr.up {
		tr.up[i] = true
		tr.open[i] = -1
	}
	e.Observe(tr)
	return tr
}

func (tr *Tracker) op(i, t int) Opinion {
	k := i*tr.n + t
	return Opinion(tr.ops[k>>5] >> (2 * (k & 31)) & 3)
}

func (tr *Tracker) setOp(i, t int, o Opinion) {
	k := i*tr.n + t
	sh := 2 * (k & 31)
	tr.ops[k>>5] = tr.ops[k>>5]&^(3<<sh) | uint64(o)<<sh
}

func (tr *Tracker) bit(i, t int) bool { return tr.op(i, t).in() }

// tally adds d to the accusation counts of t for opinion o.
func (tr *Tracker) tally(t int, o Opinion, d int32) {
	switch o {
	case Suspect:
		tr.suspCnt[t] += d
	case Dead:
		tr.deadCnt[t] += d
	}
}

func (tr *Tracker) alive(t int) bool { return tr.up[t] && tr.member[t] }

// wrongAbout reports whether observer i's opinion of t disagrees with the
// truth; it ignores whether i is counted.
func (tr *Tracker) wrongAbout(i, t int) bool { return tr.bit(i, t) != tr.alive(t) }

// Bootstrap makes every listed member a member known to every other one
// as alive, as if they had all joined before the run: the usual start.
func (tr *Tracker) Bootstrap(members []int) {
	for _, t := range members {
		tr.member[t] = true
	}
	for _, i := range members {
		for _, t := range members {
			if tr.watch(i, t) {
				tr.setOp(i, t, Alive)
			}
		}
	}
	tr.recount()
}

// recount recomputes every derived count from the bits (setup only).
func (tr *Tracker) recount() {
	tr.wrong = 0
	for t := range tr.colWrong {
		tr.colWrong[t], tr.suspCnt[t], tr.deadCnt[t] = 0, 0, 0
	}
	for i := 0; i < tr.n; i++ {
		tr.counted[i] = tr.up[i] && tr.member[i]
		if !tr.counted[i] {
			continue
		}
		for t := 0; t < tr.n; t++ {
			if !tr.watch(i, t) {
				continue
			}
			if tr.wrongAbout(i, t) {
				tr.wrong++
				tr.colWrong[t]++
			}
			tr.tally(t, tr.op(i, t), 1)
		}
	}
}

// setCounted adds or removes observer i's row from the counts.
func (tr *Tracker) setCounted(i int, v bool) {
	if tr.counted[i] == v {
		return
	}
	d := int32(1)
	if !v {
		d = -1
	}
	tr.counted[i] = v
	for t := 0; t < tr.n; t++ {
		if !tr.watch(i, t) {
			continue
		}
		if tr.wrongAbout(i, t) {
			tr.wrong += int64(d)
			tr.colWrong[t] += d
		}
		tr.tally(t, tr.op(i, t), d)
	}
}

// truthChanged recomputes column t after t's liveness changed from was.
func (tr *Tracker) truthChanged(t int, was bool) {
	if tr.alive(t) == was {
		return
	}
	for i := 0; i < tr.n; i++ {
		if !tr.counted[i] || !tr.watch(i, t) {
			continue
		}
		if tr.bit(i, t) == was { // was right, now wrong
			tr.wrong++
			tr.colWrong[t]++
		} else {
			tr.wrong--
			tr.colWrong[t]--
		}
	}
}

// Join records that member t joins the group now (it starts taking part
// and should be counted in by everyone). Its own row starts empty: report
// what it learns with View.
func (tr *Tracker) Join(t int) {
	was := tr.alive(t)
	tr.member[t] = true
	tr.truthChanged(t, was)
	tr.setCounted(t, tr.up[t])
	tr.disturbance()
}

// Leave records that member t leaves the group gracefully now.
func (tr *Tracker) Leave(t int) {
	was := tr.alive(t)
	tr.member[t] = false
	tr.setCounted(t, false)
	tr.truthChanged(t, was)
	tr.check()
}

// View records that observer i now holds opinion o of member t. A false
// suspicion (death) is counted when a member that is up becomes suspected
// (declared dead) by its first watcher: one accusation spreading through
// the group by gossip counts once.
func (tr *Tracker) View(i, t int, o Opinion) {
	if i == t {
		return
	}
	old := tr.op(i, t)
	if old == o {
		return
	}
	tr.setOp(i, t, o)
	if !tr.counted[i] || !tr.watch(i, t) {
		return
	}
	now := tr.e.Now()
	if o == Suspect || o == Dead {
		if ep := tr.open[t]; ep >= 0 && !tr.episodes[ep].firstSeen {
			tr.episodes[ep].firstSeen = true
			tr.episodes[ep].first = now.Sub(tr.episodes[ep].crashed)
		}
		if tr.alive(t) && now >= tr.warmup {
			if o == Suspect && tr.suspCnt[t] == 0 {
				tr.falseSusp++
			}
			if o == Dead && tr.deadCnt[t] == 0 {
				tr.falseDeath++
			}
		}
	}
	tr.tally(t, old, -1)
	tr.tally(t, o, 1)
	if old.in() != o.in() {
		if o.in() == tr.alive(t) {
			tr.wrong--
			tr.colWrong[t]--
		} else {
			tr.wrong++
			tr.colWrong[t]++
		}
	}
	tr.check()
}

// Consistent recomputes the disagreement counts from the opinion bits and
// reports an error if the running counts drifted from them: a broken
// tracker would report wrong detection and convergence times.
func (tr *Tracker) Consistent() error {
	var wrong int64
	for t := 0; t < tr.n; t++ {
		var col, susp, dead int32
		for i := 0; i < tr.n; i++ {
			if !tr.counted[i] || !tr.watch(i, t) {
				continue
			}
			if tr.wrongAbout(i, t) {
				col++
			}
			switch tr.op(i, t) {
			case Suspect:
				susp++
			case Dead:
				dead++
			}
		}
		if susp != tr.suspCnt[t] || dead != tr.deadCnt[t] {
			return fmt.Errorf("member %d: %d suspect and %d dead opinions, running counts say %d and %d", t, susp, dead, tr.suspCnt[t], tr.deadCnt[t])
		}
		if col != tr.colWrong[t] {
			return fmt.Errorf("member %d: %d watchers disagree with the truth, running count says %d", t, col, tr.colWrong[t])
		}
		wrong += int64(col)
	}
	if wrong != tr.wrong {
		return fmt.Errorf("%d disagreeing pairs, running count says %d", wrong, tr.wrong)
	}
	return nil
}

// Sent records a message of size bytes sent by member i.
func (tr *Tracker) Sent(i int, size int) {
	if tr.e.Now() < tr.warmup {
		return
	}
	tr.msgs[i]++
	tr.bytes[i] += int64(size)
}

// Wrong returns the number of (observer, member) pairs that currently
// disagree with the truth; 0 means every live member agrees.
func (tr *Tracker) Wrong() int64 { return tr.wrong }

// Detections returns the (detect_first, detect_all) spans of every crash
// that every live watcher declared, in crash order.
func (tr *Tracker) Detections() (first, all []time.Duration) {
	for _, ep := range tr.episodes {
		if ep.allReached {
			first = append(first, ep.first)
			all = append(all, ep.all)
		}
	}
	return first, all
}

// FirstDetections returns detect_first of every crash that some live
// member noticed, whether or not all did.
func (tr *Tracker) FirstDetections() []time.Duration {
	var out []time.Duration
	for _, ep := range tr.episodes {
		if ep.firstSeen {
			out = append(out, ep.first)
		}
	}
	return out
}

// Converged returns the convergence spans measured so far.
func (tr *Tracker) Converged() []time.Duration { return tr.converged }

// False returns the counts of false suspicions and false deaths.
func (tr *Tracker) False() (suspicions, deaths int64) { return tr.falseSusp, tr.falseDeath }

// MsgsSent returns member i's message and byte counts after the warm-up.
func (tr *Tracker) MsgsSent(i int) (msgs, bytes int64) { return tr.msgs[i], tr.bytes[i] }

// disturbance opens a convergence episode now.
func (tr *Tracker) disturbance() {
	tr.disturb = append(tr.disturb, tr.e.Now())
	tr.check()
}

// check closes detection and convergence episodes whose condition holds.
func (tr *Tracker) check() {
	now := tr.e.Now()
	if tr.wrong == 0 && len(tr.disturb) > 0 {
		for _, d := range tr.disturb {
			tr.converged = append(tr.converged, now.Sub(d))
		}
		tr.disturb = tr.disturb[:0]
	}
	keep := tr.active[:0]
	for _, ep := range tr.active {
		e := &tr.episodes[ep]
		if !e.open {
			continue
		}
		if tr.colWrong[e.target] == 0 {
			e.allReached = true
			e.all = now.Sub(e.crashed)
			if !e.firstSeen {
				e.firstSeen, e.first = true, e.all
			}
			continue
		}
		keep = append(keep, ep)
	}
	tr.active = keep
}

// OnEvent follows crashes, restarts and the ends of network faults.
func (tr *Tracker) OnEvent(ev *sim.Event) {
	switch ev.Kind {
	case sim.KindCrash:
		t := int(ev.Node)
		if t < 0 || t >= tr.n || !tr.up[t] {
			return
		}
		was := tr.alive(t)
		tr.up[t] = false
		tr.setCounted(t, false)
		tr.truthChanged(t, was)
		if was {
			tr.open[t] = int32(len(tr.episodes))
			tr.active = append(tr.active, int32(len(tr.episodes)))
			tr.episodes = append(tr.episodes, episode{target: int32(t), crashed: tr.e.Now(), open: true})
		}
		tr.check()
	case sim.KindRestart:
		t := int(ev.Node)
		if t < 0 || t >= tr.n {
			return
		}
		was := tr.alive(t)
		tr.up[t] = true
		if ep := tr.open[t]; ep >= 0 {
			tr.episodes[ep].open = false
			tr.open[t] = -1
		}
		// The fresh instance remembers nothing: its row starts empty
		// and it is not a member until it joins again.
		for u := 0; u < tr.n; u++ {
			tr.setOp(t, u, Unknown)
		}
		tr.member[t] = false
		tr.truthChanged(t, was)
	case sim.KindNote:
		if strings.HasPrefix(ev.Cause, "fault_end ") {
			tr.disturbance()
		}
	}
}

// Report computes the run scalars into s (call it from an AtEnd hook).
// period is the protocol period used for the per-period figures.
func (tr *Tracker) Report(s *protocols.Setup, period time.Duration) {
	var first, all []float64
	undetected := 0
	for _, ep := range tr.episodes {
		if !ep.allReached {
			undetected++
			continue
		}
		first = append(first, ep.first.Seconds())
		all = append(all, ep.all.Seconds())
	}
	s.Report(MetricCrashes, float64(len(tr.episodes)))
	s.Report(MetricUndetected, float64(undetected))
	s.Report(MetricDetectFirst, mean(first))
	s.Report(MetricDetectAll, mean(all))
	s.Report(MetricDetectFirstMax, maxOf(first))
	s.Report(MetricDetectAllMax, maxOf(all))

	members := 0
	for i := 0; i < tr.n; i++ {
		if tr.member[i] || tr.msgs[i] > 0 {
			members++
		}
	}
	span := tr.e.Now().Sub(tr.warmup)
	hours := span.Hours() * float64(members)
	periods := float64(span) / float64(period)
	s.Report(MetricFalseSuspicions, float64(tr.falseSusp))
	s.Report(MetricFalseDeaths, float64(tr.falseDeath))
	s.Report(MetricFalseSuspicionRate, ratio(float64(tr.falseSusp), hours))
	s.Report(MetricFalseDeathRate, ratio(float64(tr.falseDeath), hours))
	s.Report(MetricFalseDeathPerPeriod, ratio(float64(tr.falseDeath), periods*float64(members)))

	var m, b []float64
	for i := 0; i < tr.n; i++ {
		if tr.member[i] || tr.msgs[i] > 0 {
			m = append(m, ratio(float64(tr.msgs[i]), periods))
			b = append(b, ratio(float64(tr.bytes[i]), periods))
		}
	}
	s.Report(MetricMsgs, mean(m))
	s.Report(MetricMsgsMax, maxOf(m))
	s.Report(MetricBytes, mean(b))
	s.Report(MetricBytesMax, maxOf(b))

	var c []float64
	for _, d := range tr.converged {
		c = append(c, d.Seconds())
	}
	s.Report(MetricConverge, mean(c))
	s.Report(MetricConvergeMax, maxOf(c))
	s.Report(MetricUnconverged, float64(len(tr.disturb)))
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return a / b
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = math.Max(m, x)
	}
	return m
}
