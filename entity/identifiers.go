package entity

import (
	"cmp"
	"regexp"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"

	"github.com/concordnet/concord/internal/iso3166"
	"github.com/concordnet/concord/protocol"
)

// phoneRegion is the alpha-2 region for a phone number without "+": the
// entity's own country field when it has one, else the originator's.
func phoneRegion(e protocol.Entity, region string) string {
	for _, c := range []string{e.Fields["country"], region} {
		if a, ok := iso3166.Alpha2(strings.ToUpper(strings.TrimSpace(c))); ok {
			return a
		}
	}
	return ""
}

// normPhone gives a phone number in E.164, flagged when libphonenumber
// does not know it as a valid number. One it cannot parse at all (no "+"
// and no region, garbage) is kept as its digits, behind a "+" if written
// with one, and flagged.
func normPhone(v, region string) (string, bool) {
	if strings.HasPrefix(v, "00") && region == "" {
		v = "+" + v[2:]
	}
	if n, err := phonenumbers.Parse(v, region); err == nil {
		return phonenumbers.Format(n, phonenumbers.E164), !phonenumbers.IsValidNumber(n)
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, v)
	if strings.HasPrefix(v, "+") && digits != "" {
		digits = "+" + digits
	}
	return digits, true
}

// normIBAN upper-cases an IBAN and removes its spaces (and dashes and
// dots), flagging it when its structure or mod-97 check fails.
func normIBAN(v string) (string, bool) {
	s := compact(v)
	return s, !validIBAN(s)
}

var ibanShape = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$`)

// validIBAN checks ISO 13616: the country code and check digits moved to
// the end, letters as 10..35, the number mod 97 is 1.
func validIBAN(s string) bool {
	if !ibanShape.MatchString(s) {
		return false
	}
	mod := 0
	for _, r := range s[4:] + s[:4] {
		if r >= 'A' {
			mod = (mod*100 + int(r-'A') + 10) % 97
		} else {
			mod = (mod*10 + int(r-'0')) % 97
		}
	}
	return mod == 1
}

// normEmail lower-cases an address and gives its domain in ASCII (IDNA
// lookup profile), so "Ops@Bücher.Example" meets
// "ops@xn--bcher-kva.example"; flagged when it has no "@" or the domain
// is not a valid IDNA name.
func normEmail(v string) (string, bool) {
	v = strings.ToLower(v)
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || at == len(v)-1 {
		return v, true
	}
	domain, err := idna.Lookup.ToASCII(v[at+1:])
	if err != nil {
		return v, true
	}
	return v[:at+1] + domain, false
}

// caseless matches addresses of chains that ignore case: bech32 and
// cashaddr (Bitcoin, Litecoin, Bitcoin Cash…) and hex 0x… (Ethereum and
// other EVM chains, whose mixed case is only a checksum).
var caseless = regexp.MustCompile(`^(?i:(bc|tb|bcrt|ltc|tltc)1[02-9ac-hj-np-z]{6,87}|(bitcoincash|bchtest):[02-9ac-hj-np-z]{20,}|0x[0-9a-f]{40})$`)

// normCrypto keeps an address as written, lower-casing only those of
// case-insensitive chains.
func normCrypto(v string) string {
	if caseless.MatchString(v) {
		return strings.ToLower(v)
	}
	return v
}

// documentKeys gives a passport or identity document as issuing country
// and number ("FRA:12AB34567"), then the number alone so that an agency
// that did not record the country still meets it. The country is the
// issuer or country field, or a "CCC:" prefix of the value; an alpha-2
// code is written in alpha-3; a country that is not letters is ignored.
func documentKeys(e protocol.Entity) []Key {
	country := cmp.Or(strings.TrimSpace(e.Fields["issuer"]), strings.TrimSpace(e.Fields["country"]))
	number := e.Value
	if c, n, ok := strings.Cut(number, ":"); ok && isLetters(strings.TrimSpace(c)) {
		country, number = cmp.Or(country, c), n
	}
	number, country = compact(number), compact(country)
	if a3, ok := iso3166.Alpha3(country); ok {
		country = a3
	}
	if !isLetters(country) || number == "" {
		return []Key{{Type: e.Type, Value: number}}
	}
	return []Key{{Type: e.Type, Value: country + ":" + number}, {Type: e.Type, Value: number}}
}

func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}
