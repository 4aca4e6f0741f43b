package main

import (
	"errors"
	"sync"
	"time"
)

// pollEvery is how often the bench checks a condition it waits for.
const pollEvery = 20 * time.Millisecond

// parallel runs fn(0..n-1) on at most workers goroutines and returns
// every error joined.
func parallel(n, workers int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	next := make(chan int)
	for range max(1, min(workers, n)) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}
