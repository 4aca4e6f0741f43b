package store

import "github.com/dgraph-io/badger/v4"

// Tune, when set, adjusts the Badger options of every store this process
// opens (Options). It is nil in a daemon. A simulation that runs hundreds
// of nodes in one process (concord-bench's un scenario) shrinks
// memtables and caches with it; set it before the first Open.
var Tune func(badger.Options) badger.Options
