// Package misp converts Concord bulletins to MISP events in the MISP core
// format (one event per bulletin, as a MISP feed delivers them) and MISP
// events back into bulletin drafts.
//
// An exported event carries everything a round trip needs: the body as an
// EventReport, entities as attributes and objects of the types MISP
// defines, TLP and the Concord taxonomy as tags, and the remaining bulletin
// fields (summary, language, H3 restrictions, references…) as "Internal
// reference" text attributes whose comment names the field. Every UUID is
// a UUIDv5 of the bulletin ID (and of the entity), so a revision updates the
// same event and the same attributes in MISP instead of duplicating them.
//
// # Entry points
//
// Events converts bulletins, WriteFeed writes them as a MISP feed
// (one <uuid>.json per event, manifest.json and hashes.csv), and Import
// reads an event, a list of events or an API answer back into drafts.
//
// # Dependencies
//
// interop and protocol, and the standard library.
package misp
