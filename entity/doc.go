// Package entity gives every entity of a bulletin one canonical form per
// type, so that the same phone number, vessel or name written differently
// by two agencies meets in the search index (node/store) and in alerts.
//
// # Entry points
//
// Normalize and Keys turn a bulletin's entity into its canonical Key(s);
// ParseTerm reads a search term as one. Fold and Words give the folded
// words of full-text search.
//
// # Dependencies
//
// protocol (entity types), internal/iso3166, phonenumbers (E.164),
// golang.org/x/text and golang.org/x/net/idna.
package entity
