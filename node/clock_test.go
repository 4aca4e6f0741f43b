package node

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/protocol"
)

// A node whose clock is shifted (the fault concord-chaos injects) stamps
// what it publishes with its own time, and its partners judge that time
// by theirs: 20 minutes ahead is past the 10 they allow.
func TestClockOffsetShiftsWhatTheNodeStamps(t *testing.T) {
	t.Setenv(ClockOffsetEnv, "soon")
	if _, err := newNode(t, "Police nationale", "FRA", nil); err == nil || !strings.Contains(err.Error(), ClockOffsetEnv+`="soon" is not a Go duration`) {
		t.Fatalf("a bad offset: got %v, want an error naming %s", err, ClockOffsetEnv)
	}
	os.Unsetenv(ClockOffsetEnv)
	owner := startNode(t, "Police nationale", "FRA")
	t.Setenv(ClockOffsetEnv, "20m")
	ahead := startNode(t, "Nigeria Police Force", "NGA")
	os.Unsetenv(ClockOffsetEnv)

	s, err := owner.CreateTopic(context.Background(), "drug-trafficking", "Lagos", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	invite(t, owner, ahead, s.ID)
	waitMesh(t, []*Node{owner, ahead}, s.ID)
	rec := publish(t, ahead, s.ID, draft("from a clock 20 minutes fast"))
	if skew := rec.Created.Sub(time.Now()); skew < 19*time.Minute || skew > 21*time.Minute {
		t.Fatalf("created %v, %v from now: want the shifted clock's time, 20 minutes ahead", rec.Created, skew)
	}
	eventually(t, 30*time.Second, "the owner refuses the envelope for its time", func() bool {
		return rejected(owner, "envelope", protocol.ReasonBadTime) >= 1
	})
	if readable(owner, rec.ID) {
		t.Fatal("the owner stored a bulletin stamped 20 minutes ahead of its clock")
	}
}
