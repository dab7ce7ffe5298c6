package check

// machine is one check's state, keepalived's rules as a pure function of
// the probe results (no clock, no I/O): the runner feeds it results and
// sleeps for the delay it chooses.
//
//   - success: the check is up at once; retries are forgotten.
//   - failure while up: retry up to Retry times, each after
//     DelayBeforeRetry; the failure after the last retry puts it down, so a
//     check goes down after Retry+1 consecutive failures.
//   - failure while down: stay down, next probe after DelayLoop.
type machine struct {
	up      bool
	retryIt int
	retry   int
	// weight is the last misc_dynamic weight reported, if any.
	weight *int
}

// newMachine is a check's state before its first probe. fresh: at start,
// or for a real server that is down, where keepalived needs one failure,
// not retry+1 ("one failure is enough initially": retry_it starts at
// retry, and a reload's new check of a failed server does the same); a
// success resets the count, so later outages get their retries.
func newMachine(retry int, alpha, fresh bool) machine {
	m := machine{up: !alpha, retry: retry}
	if fresh {
		m.retryIt = retry
	}
	return m
}

// observe applies one probe result. It returns whether the next probe is a
// retry (after DelayBeforeRetry rather than DelayLoop) and whether the
// check's health (up, or its dynamic weight) changed.
func (m *machine) observe(r Result) (retryNext, changed bool) {
	if r.Up {
		m.retryIt = 0
		changed = !m.up
		m.up = true
		if r.Weight != nil && (m.weight == nil || *m.weight != *r.Weight) {
			w := *r.Weight
			m.weight = &w
			changed = true
		}
		return false, changed
	}
	if m.up && m.retryIt < m.retry {
		m.retryIt++
		return true, false
	}
	m.retryIt = 0
	changed = m.up
	m.up = false
	return false, changed
}

// aggregate is a real server's health from its checks' states: down if any
// check is down (keepalived counts failed checkers and keeps the server out
// while the count is not zero); the weight is the smallest misc_dynamic
// weight reported by an up check (keepalived lets the last one win and warns
// that several dynamic checks "will cause problems"; the smallest is
// deterministic and errs on the side of less traffic).
func aggregate(ms []*machine) (up bool, weight *int) {
	up = true
	for _, m := range ms {
		if !m.up {
			up = false
			continue
		}
		if m.weight != nil && (weight == nil || *m.weight < *weight) {
			w := *m.weight
			weight = &w
		}
	}
	if !up {
		weight = nil
	}
	return up, weight
}
