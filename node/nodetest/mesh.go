package nodetest

import (
	"context"
	"fmt"
	"time"
)

// meshPoll is how often WaitMesh asks each member.
const meshPoll = 20 * time.Millisecond

// WaitMesh waits until each of members holds the topic with exactly
// len(members) members and has every other as a GossipSub peer on it, as
// its API reports (GET /v1/topics/{topic}). The deadline is ctx's.
func WaitMesh(ctx context.Context, members []Member, topic string) error {
	want := len(members)
	for i, m := range members {
		err := Poll(ctx, meshPoll, func() (bool, error) {
			t, err := m.Client().Topic(ctx, topic)
			if err != nil {
				return false, err
			}
			if t.Members == want && t.Peers == want-1 {
				return true, nil
			}
			return false, fmt.Errorf("%d members, %d GossipSub peers", t.Members, t.Peers)
		})
		if err != nil {
			return fmt.Errorf("member %d does not see all %d members on the topic: %w", i, want, err)
		}
	}
	return nil
}
