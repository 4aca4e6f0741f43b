package entity

import (
	"slices"
	"strings"

	"github.com/concordnet/concord/protocol"
)

// Normalize returns the canonical key of e: its strongest identifier when
// it has several (a vessel's IMO number before its MMSI before its name).
// region is the ISO 3166-1 alpha-3 country of the bulletin's originator,
// the default region of a phone number written without "+". A key whose
// value is empty (a name made only of punctuation) matches nothing.
func Normalize(e protocol.Entity, region string) Key {
	if keys := Keys(e, region); len(keys) > 0 {
		return keys[0]
	}
	return Key{Type: e.Type}
}

// Keys returns every key of e, strongest first, without duplicates or
// empty values: what the index posts so that a vessel known by its IMO
// number to one agency and by its MMSI or name to another still meets.
func Keys(e protocol.Entity, region string) []Key {
	var keys []Key
	for _, k := range keysOf(e, region) {
		if k.Value != "" && !slices.ContainsFunc(keys, func(o Key) bool { return o.Value == k.Value }) {
			keys = append(keys, k)
		}
	}
	return keys
}

// ParseTerm parses a search term TYPE:VALUE (e.g. "phone:+234 801 234
// 5678") into the key Normalize gives that entity; region is the default
// phone region (alpha-3) of the one searching. It is false only if TYPE
// is not an entity type; check the key's Value for emptiness. A key's
// String() parses back to the same key.
func ParseTerm(term, region string) (Key, bool) {
	typ, value, ok := strings.Cut(term, ":")
	typ = strings.ToLower(strings.TrimSpace(typ))
	if !ok || !slices.Contains(protocol.EntityTypes(), typ) {
		return Key{}, false
	}
	return Normalize(protocol.Entity{Type: typ, Value: value}, region), true
}

// keysOf dispatches on the type; every normaliser trims its input.
func keysOf(e protocol.Entity, region string) []Key {
	one := func(value string, flagged bool) []Key {
		return []Key{{Type: e.Type, Value: value, Flagged: flagged}}
	}
	v := strings.TrimSpace(e.Value)
	switch e.Type {
	case "phone":
		return one(normPhone(v, phoneRegion(e, region)))
	case "iban":
		return one(normIBAN(v))
	case "email":
		return one(normEmail(v))
	case "crypto-address":
		return one(normCrypto(v), false)
	case "vessel":
		return vesselKeys(e)
	case "person":
		return one(personName(v), false)
	case "organization":
		return one(joinWords(v), false)
	case "passport", "id-document":
		return documentKeys(e)
	case "vehicle":
		return one(compact(fieldOr(e, v, "plate")), false)
	case "aircraft":
		return one(compact(fieldOr(e, v, "registration")), false)
	case "firearm":
		return one(compact(fieldOr(e, v, "serial")), false)
	}
	return one(strings.Join(strings.Fields(Fold(v)), " "), false)
}

// fieldOr is the trimmed field name of e when set, else value: the field
// that identifies the thing (a vehicle's plate) when the value describes
// it ("white Toyota Hilux").
func fieldOr(e protocol.Entity, value, name string) string {
	if f := strings.TrimSpace(e.Fields[name]); f != "" {
		return f
	}
	return value
}

// compact is s upper-cased with everything but letters and digits removed:
// plates, registrations and serials are written with or without spaces,
// dashes and dots.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		if !isWordRune(r) {
			return -1
		}
		return r
	}, strings.ToUpper(s))
}

// personName folds a person's name and sorts its words, so that "GARCÍA
// LOPEZ, Juan" and "Juan Garcia Lopez" are one key.
func personName(s string) string {
	words := Words(s)
	slices.Sort(words)
	return strings.Join(words, " ")
}
