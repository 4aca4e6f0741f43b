package main

import (
	"time"
)

// pollEvery is how often the bench checks a condition it waits for.
const pollEvery = 20 * time.Millisecond
