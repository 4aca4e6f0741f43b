// Package fsutil holds the one file-writing rule secrets need: a new file,
// mode 0600, never replacing another, durable before it is reported
// written, and gone again if it could not be written whole.
//
// WriteNew is its whole API; it depends on the standard library only.
package fsutil
