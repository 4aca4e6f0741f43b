package nodetest

import (
	"context"
	"fmt"
	"time"
)

// Poll calls cond now and then every interval until it holds or ctx ends.
// An error from cond does not stop the polling: it says why cond does not
// hold yet, and is returned with ctx's error if it still does not at the
// end.
func Poll(ctx context.Context, every time.Duration, cond func() (bool, error)) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%w: %w", ctx.Err(), err)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}
