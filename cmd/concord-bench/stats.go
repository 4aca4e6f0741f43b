package main

import (
	"slices"
	"time"
)

// latencies summarises one delivery run.
type latencies struct {
	p50, p99, max time.Duration
	delivered     int
	expected      int
}

func (l latencies) ratio() float64 {
	if l.expected == 0 {
		return 0
	}
	return float64(l.delivered) / float64(l.expected)
}

// summarize computes nearest-rank percentiles of samples (which it sorts).
func summarize(samples []time.Duration, expected int) latencies {
	l := latencies{delivered: len(samples), expected: expected}
	if len(samples) == 0 {
		return l
	}
	slices.Sort(samples)
	l.p50, l.p99, l.max = percentile(samples, 50), percentile(samples, 99), samples[len(samples)-1]
	return l
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
