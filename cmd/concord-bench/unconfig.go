package main

import (
	"flag"
	"fmt"

	"github.com/concordnet/concord/internal/iso3166"
)

// unConfig sizes the un scenario: a federation of one node per United
// Nations Member State.
type unConfig struct {
	nodes     int     // member nodes, one per country code
	topics    int     // topics of 3 to 60 members besides the all-member one
	msgs      int     // bulletins of the delivery run on the all-member topic
	rate      float64 // their rate, per second, from 5 publishers
	missed    int     // bulletins a stopped member misses, then catches up on
	splitMsgs int     // bulletins each half publishes during the partition
	seed      uint64  // of the mixed topics' sizes, categories and members
}

func (u *unConfig) flags(fs *flag.FlagSet) {
	fs.IntVar(&u.nodes, "un-nodes", 193, "member nodes of the un scenario, one per country (the United Nations has 193 Member States)")
	fs.IntVar(&u.topics, "un-topics", 40, "topics of 3 to 60 members across the 11 categories in the un scenario, besides the all-member one")
	fs.IntVar(&u.msgs, "un-msgs", 20, "bulletins of the un delivery run on the all-member topic")
	fs.Float64Var(&u.rate, "un-rate", 0.5, "bulletins per second of the un delivery run, 5 publishers together")
	fs.IntVar(&u.missed, "un-missed", 1000, "bulletins a stopped un member misses on a topic of 3, then catches up on")
	fs.IntVar(&u.splitMsgs, "un-split-msgs", 5, "bulletins each half of the un federation publishes while partitioned")
	fs.Uint64Var(&u.seed, "un-seed", 193, "seed of the un scenario's mixed topics")
}

func (u *unConfig) check() error {
	switch {
	case u.nodes < 4 || u.nodes > len(iso3166.Alpha3Codes()):
		return fmt.Errorf("-un-nodes must be from 4 to %d (one ISO 3166 country code each)", len(iso3166.Alpha3Codes()))
	case u.topics < 0 || u.msgs < 1 || u.rate <= 0 || u.missed < 1 || u.splitMsgs < 1:
		return fmt.Errorf("-un-topics must be 0 or more; -un-msgs, -un-rate, -un-missed and -un-split-msgs positive")
	}
	return nil
}
