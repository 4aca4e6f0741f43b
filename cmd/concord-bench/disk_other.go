//go:build !unix

package main

import "io/fs"

// allocated is the file's size where block counts are not at hand.
func allocated(info fs.FileInfo) int64 { return info.Size() }
