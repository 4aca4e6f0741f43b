package nodetest

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPollReturnsOnceTheConditionHolds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls := 0
	err := Poll(ctx, time.Millisecond, func() (bool, error) {
		calls++
		return calls == 3, errors.New("not yet")
	})
	if err != nil || calls != 3 {
		t.Fatalf("Poll = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestPollEndsWithTheContextAndTheLastReason(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	why := errors.New("still two members")
	err := Poll(ctx, time.Millisecond, func() (bool, error) { return false, why })
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, why) {
		t.Fatalf("Poll = %v, want the deadline and the last reason", err)
	}
}
