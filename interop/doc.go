// Package interop holds what Concord's exchange formats share: the
// bulletin as an export reads it (Item) and the draft an import makes
// (Draft). The formats live in its subpackages: stix (STIX 2.1 bundles)
// and misp (MISP events and feeds). They depend on protocol only; the CLI
// fetches bulletins through the local API and publishes drafts through it.
package interop
