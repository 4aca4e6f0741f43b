package entity

import (
	"regexp"
	"strings"

	"github.com/concordnet/concord/protocol"
)

// A vessel key's value says which identifier it is, as the three do not
// share a namespace: "imo:9074729", "mmsi:538006554", "name:mv aurora".
const (
	imoPrefix  = "imo:"
	mmsiPrefix = "mmsi:"
	namePrefix = "name:"
)

var (
	// imoInValue and mmsiInValue find an identifier written in a vessel's
	// value ("IMO 9074729", "MMSI: 538006554", or a key's "imo:9074729").
	imoInValue  = regexp.MustCompile(`(?i)\bimo\s*(?:no\.?|number)?\s*[:#.-]?\s*([0-9]{1,15})\b`)
	mmsiInValue = regexp.MustCompile(`(?i)\bmmsi\s*[:#.-]?\s*([0-9]{1,15})\b`)
	allDigits   = regexp.MustCompile(`^[0-9]+$`)
)

// vesselKeys gives a vessel's IMO number when its check digit holds, its
// MMSI when it has 9 digits, and its folded name; then identifiers that
// fail their check, flagged. The identifiers come from the imo and mmsi
// fields, or else from the value, whose remainder is the name; a value
// that is only 7 or 9 digits is an IMO number or an MMSI.
func vesselKeys(e protocol.Entity) []Key {
	// A "name:" value (a key searched for as shown) is only a name.
	name, isName := strings.CutPrefix(strings.TrimSpace(e.Value), namePrefix)
	rest := name
	if isName {
		rest = ""
	}
	imo, rest := identifier(e.Fields["imo"], rest, imoInValue, 7)
	mmsi, rest := identifier(e.Fields["mmsi"], rest, mmsiInValue, 9)
	if !isName {
		name = rest
	}
	var good, flagged []Key
	add := func(prefix, value string, ok bool) {
		switch k := (Key{Type: e.Type, Value: prefix + value}); {
		case value == "":
		case ok:
			good = append(good, k)
		default:
			k.Flagged = true
			flagged = append(flagged, k)
		}
	}
	add(imoPrefix, imo, validIMO(imo))
	add(mmsiPrefix, mmsi, len(mmsi) == 9)
	if folded := joinWords(name); folded != "" {
		add(namePrefix, folded, true)
	}
	return append(good, flagged...)
}

// identifier returns the digits of field when set, else the identifier
// found in value, else value itself when it is only wantLen digits; rest
// is value without the identifier, the vessel's name.
func identifier(field, value string, inValue *regexp.Regexp, wantLen int) (id, rest string) {
	if m := inValue.FindStringSubmatchIndex(value); m != nil {
		id, rest = value[m[2]:m[3]], value[:m[0]]+" "+value[m[1]:]
	} else if len(value) == wantLen && allDigits.MatchString(value) {
		id, rest = value, ""
	} else {
		rest = value
	}
	if f := strings.TrimSpace(field); f != "" {
		id = digitsOf(f)
	}
	return id, rest
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// validIMO checks an IMO ship number: seven digits, the last being the
// sum of the first six weighted 7 down to 2, modulo 10.
func validIMO(s string) bool {
	if len(s) != 7 || !allDigits.MatchString(s) {
		return false
	}
	sum := 0
	for i := range 6 {
		sum += int(s[i]-'0') * (7 - i)
	}
	return sum%10 == int(s[6]-'0')
}
