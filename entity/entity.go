package entity

// Key is an entity in canonical form: what the index stores and what a
// TYPE:VALUE search term is matched on.
type Key struct {
	Type  string // a protocol entity type (protocol.EntityTypes)
	Value string // canonical form (see Normalize)
	// Flagged says the value failed a check its type has (an IBAN whose
	// mod-97 fails, an IMO number whose check digit is wrong): it is
	// indexed as written, and shown with a warning.
	Flagged bool
}

// String is the key as a search term: TYPE:VALUE.
func (k Key) String() string { return k.Type + ":" + k.Value }
