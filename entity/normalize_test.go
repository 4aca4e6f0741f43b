package entity

import (
	"slices"
	"testing"

	"github.com/concordnet/concord/protocol"
)

func ent(typ, value string, fields ...string) protocol.Entity {
	e := protocol.Entity{Type: typ, Value: value}
	for i := 0; i+1 < len(fields); i += 2 {
		if e.Fields == nil {
			e.Fields = map[string]string{}
		}
		e.Fields[fields[i]] = fields[i+1]
	}
	return e
}

func key(typ, value string) Key     { return Key{Type: typ, Value: value} }
func flagged(typ, value string) Key { return Key{Type: typ, Value: value, Flagged: true} }

// normalizeCases is every type's rule, with the examples.
var normalizeCases = []struct {
	name   string
	e      protocol.Entity
	region string
	want   []Key // Keys; Normalize is the first
}{
	// phone: E.164, the originator's country for numbers without "+".
	{"phone international", ent("phone", "+234 801 234 5678"), "FRA", []Key{key("phone", "+2348012345678")}},
	{"phone national NGA", ent("phone", "0801 234 5678"), "NGA", []Key{key("phone", "+2348012345678")}},
	{"phone E.164", ent("phone", "+2348012345678"), "", []Key{key("phone", "+2348012345678")}},
	{"phone punctuation", ent("phone", "(0801) 234-5678"), "NGA", []Key{key("phone", "+2348012345678")}},
	{"phone 00 prefix no region", ent("phone", "00 234 801 234 5678"), "", []Key{key("phone", "+2348012345678")}},
	{"phone 00 prefix FRA", ent("phone", "00 234 801 234 5678"), "FRA", []Key{key("phone", "+2348012345678")}},
	{"phone entity country wins", ent("phone", "01 42 68 53 00", "country", "FRA"), "NGA", []Key{key("phone", "+33142685300")}},
	{"phone national FRA", ent("phone", "01 42 68 53 00"), "FRA", []Key{key("phone", "+33142685300")}},
	{"phone no region", ent("phone", "0801 234 5678"), "", []Key{flagged("phone", "08012345678")}},
	{"phone unknown region", ent("phone", "0801 234 5678"), "XXX", []Key{flagged("phone", "08012345678")}},
	{"phone bad country code", ent("phone", "+999 123 4567"), "NGA", []Key{flagged("phone", "+9991234567")}},
	{"phone invalid number", ent("phone", "+234 1"), "NGA", []Key{flagged("phone", "+2341")}},
	{"phone no digits", ent("phone", "unknown"), "NGA", nil},
	// iban: upper case, no spaces, mod-97.
	{"iban spaced lower", ent("iban", "gb82 west 1234 5698 7654 32"), "", []Key{key("iban", "GB82WEST12345698765432")}},
	{"iban compact", ent("iban", "DE89370400440532013000"), "", []Key{key("iban", "DE89370400440532013000")}},
	{"iban letters in BBAN", ent("iban", " FR14 2004 1010 0505 0001 3M02 606 "), "", []Key{key("iban", "FR1420041010050500013M02606")}},
	{"iban bad check", ent("iban", "GB82 WEST 1234 5698 7654 33"), "", []Key{flagged("iban", "GB82WEST12345698765433")}},
	{"iban too short", ent("iban", "gb82 west"), "", []Key{flagged("iban", "GB82WEST")}},
	// vessel: IMO (check digit), MMSI, folded name.
	{"vessel IMO in value", ent("vessel", "IMO 9074729"), "", []Key{key("vessel", "imo:9074729")}},
	{"vessel IMO written with name", ent("vessel", "MV Aurora (IMO no. 9074729)"), "", []Key{key("vessel", "imo:9074729"), key("vessel", "name:mv aurora")}},
	{"vessel bare IMO", ent("vessel", "9074729"), "", []Key{key("vessel", "imo:9074729")}},
	{"vessel bare MMSI", ent("vessel", "538006554"), "", []Key{key("vessel", "mmsi:538006554")}},
	{"vessel fields", ent("vessel", "MV Aurora", "imo", "IMO9321483", "mmsi", "538 006 554", "flag", "PAN"), "",
		[]Key{key("vessel", "imo:9321483"), key("vessel", "mmsi:538006554"), key("vessel", "name:mv aurora")}},
	{"vessel MMSI in value", ent("vessel", "Ocean Star MMSI: 538006554"), "", []Key{key("vessel", "mmsi:538006554"), key("vessel", "name:ocean star")}},
	{"vessel bad IMO check digit", ent("vessel", "Ocean Star", "imo", "9074728"), "", []Key{key("vessel", "name:ocean star"), flagged("vessel", "imo:9074728")}},
	{"vessel short MMSI", ent("vessel", "Ocean Star", "mmsi", "12345"), "", []Key{key("vessel", "name:ocean star"), flagged("vessel", "mmsi:12345")}},
	{"vessel name only", ent("vessel", "  M/V  Océan-Star "), "", []Key{key("vessel", "name:m v ocean star")}},
	// email: lower case, IDNA domain.
	{"email case", ent("email", " Ops.Desk@Example.ORG "), "", []Key{key("email", "ops.desk@example.org")}},
	{"email IDN", ent("email", "Ops@Bücher.Example"), "", []Key{key("email", "ops@xn--bcher-kva.example")}},
	{"email punycode", ent("email", "ops@XN--BCHER-KVA.example"), "", []Key{key("email", "ops@xn--bcher-kva.example")}},
	{"email no at", ent("email", "Ops.Example.org"), "", []Key{flagged("email", "ops.example.org")}},
	{"email bad domain", ent("email", "ops@exa_mple.org"), "", []Key{flagged("email", "ops@exa_mple.org")}},
	// crypto-address: as written, except case-insensitive chains.
	{"crypto base58 case kept", ent("crypto-address", " 1BoatSLRHtKNngkdXEeobR76b53LETtpyT "), "", []Key{key("crypto-address", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")}},
	{"crypto bech32 upper", ent("crypto-address", "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"), "", []Key{key("crypto-address", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")}},
	{"crypto ethereum checksum case", ent("crypto-address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), "", []Key{key("crypto-address", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")}},
	{"crypto tron case kept", ent("crypto-address", "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"), "", []Key{key("crypto-address", "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL")}},
	// aircraft, firearm, vehicle: upper case without separators.
	{"aircraft registration", ent("aircraft", "f-gkxa"), "", []Key{key("aircraft", "FGKXA")}},
	{"aircraft registration field", ent("aircraft", "Cessna 208", "registration", "5N-ABC"), "", []Key{key("aircraft", "5NABC")}},
	{"firearm serial", ent("firearm", "abc.123-45 6"), "", []Key{key("firearm", "ABC123456")}},
	{"firearm serial field", ent("firearm", "Glock 17", "serial", "abc 123"), "", []Key{key("firearm", "ABC123")}},
	{"vehicle plate", ent("vehicle", "ab-123 cd"), "", []Key{key("vehicle", "AB123CD")}},
	{"vehicle plate field", ent("vehicle", "white Toyota Hilux", "plate", "AB.123.CD"), "", []Key{key("vehicle", "AB123CD")}},
	// passport, id-document: issuing country and number.
	{"passport country field", ent("passport", "12 ab 34567", "country", "fra"), "", []Key{key("passport", "FRA:12AB34567"), key("passport", "12AB34567")}},
	{"passport issuer alpha-2", ent("passport", "12AB-34567", "issuer", "FR"), "", []Key{key("passport", "FRA:12AB34567"), key("passport", "12AB34567")}},
	{"passport country in value", ent("passport", "FRA:12AB34567"), "", []Key{key("passport", "FRA:12AB34567"), key("passport", "12AB34567")}},
	{"passport number alone", ent("passport", "12 AB 34567"), "NGA", []Key{key("passport", "12AB34567")}},
	{"id-document", ent("id-document", "x 123.456.789", "country", "NGA"), "", []Key{key("id-document", "NGA:X123456789"), key("id-document", "X123456789")}},
	// names: folded; person word order ignored.
	{"person inverted", ent("person", "GARCÍA LOPEZ, Juan"), "", []Key{key("person", "garcia juan lopez")}},
	{"person natural", ent("person", "Juan Garcia Lopez"), "", []Key{key("person", "garcia juan lopez")}},
	{"person hyphen", ent("person", "Juan García-López"), "", []Key{key("person", "garcia juan lopez")}},
	{"person special letters", ent("person", "Łukasz STRAßER"), "", []Key{key("person", "lukasz strasser")}},
	{"person punctuation only", ent("person", "--"), "", nil},
	{"organization order kept", ent("organization", "Société Générale S.A."), "", []Key{key("organization", "societe generale s a")}},
	{"organization spaces", ent("organization", "  ACME   Shipping, Ltd "), "", []Key{key("organization", "acme shipping ltd")}},
	// location, other: trimmed and case-folded.
	{"location", ent("location", "  Port  Harcourt, NIGERIA "), "", []Key{key("location", "port harcourt, nigeria")}},
	{"location diacritics", ent("location", "Lomé"), "", []Key{key("location", "lome")}},
	{"other", ent("other", " https://Example.org/X "), "", []Key{key("other", "https://example.org/x")}},
}

func TestKeys(t *testing.T) {
	for _, tc := range normalizeCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Keys(tc.e, tc.region)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Keys(%+v, %q) = %v (%+v), want %+v", tc.e, tc.region, got, got, tc.want)
			}
			want := Key{Type: tc.e.Type}
			if len(tc.want) > 0 {
				want = tc.want[0]
			}
			if n := Normalize(tc.e, tc.region); n != want {
				t.Errorf("Normalize = %+v, want %+v", n, want)
			}
		})
	}
}

// TestSamePhoneThreeWays is the acceptance example: one key.
func TestSamePhoneThreeWays(t *testing.T) {
	a := Normalize(ent("phone", "+234 801 234 5678"), "FRA")
	b := Normalize(ent("phone", "0801 234 5678"), "NGA")
	c := Normalize(ent("phone", "+2348012345678"), "BEL")
	if a != b || b != c || a.Flagged || a.String() != "phone:+2348012345678" {
		t.Fatalf("three writings give %v, %v, %v", a, b, c)
	}
}

// TestKeysParseBack checks that every key's String() parses back to it,
// so a key shown to an analyst can be searched for as written.
func TestKeysParseBack(t *testing.T) {
	for _, tc := range normalizeCases {
		for _, k := range Keys(tc.e, tc.region) {
			if got, ok := ParseTerm(k.String(), tc.region); !ok || got != k {
				t.Errorf("%s: ParseTerm(%q) = %+v, %v; want %+v", tc.name, k.String(), got, ok, k)
			}
		}
	}
}

func TestParseTerm(t *testing.T) {
	for _, tc := range []struct {
		term, region string
		want         Key
		ok           bool
	}{
		{"phone:+234 801 234 5678", "", key("phone", "+2348012345678"), true},
		{"phone:0801 234 5678", "NGA", key("phone", "+2348012345678"), true},
		{" PHONE : +2348012345678", "", key("phone", "+2348012345678"), true},
		{"iban:gb82 west 1234 5698 7654 32", "", key("iban", "GB82WEST12345698765432"), true},
		{"vessel:IMO 9074729", "", key("vessel", "imo:9074729"), true},
		{"vessel:imo:9074729", "", key("vessel", "imo:9074729"), true},
		{"vessel:MV Aurora", "", key("vessel", "name:mv aurora"), true},
		{"person:Juan Garcia Lopez", "", key("person", "garcia juan lopez"), true},
		{"passport:FRA:12AB34567", "", key("passport", "FRA:12AB34567"), true},
		{"crypto-address:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "", key("crypto-address", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), true},
		{"person:", "", key("person", ""), true},
		{"colour:red", "", Key{}, false},
		{"no colon", "", Key{}, false},
		{"http://example.org", "", Key{}, false},
		{"", "", Key{}, false},
	} {
		got, ok := ParseTerm(tc.term, tc.region)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseTerm(%q, %q) = %+v, %v; want %+v, %v", tc.term, tc.region, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEveryTypeHasAKey(t *testing.T) {
	for _, typ := range protocol.EntityTypes() {
		if k := Normalize(ent(typ, "A1"), "NGA"); k.Type != typ || k.Value == "" {
			t.Errorf("Normalize(%s=A1) = %+v, want a non-empty key of that type", typ, k)
		}
	}
}

func TestValidIMO(t *testing.T) {
	for s, want := range map[string]bool{"9074729": true, "9321483": true, "9074728": false, "907472": false, "90747290": false, "907472a": false} {
		if validIMO(s) != want {
			t.Errorf("validIMO(%q) = %v, want %v", s, !want, want)
		}
	}
}

// TestKeysConcurrent runs the normalisers from many goroutines, as the
// store's ingest and the API's searches do (run with -race).
func TestKeysConcurrent(t *testing.T) {
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, tc := range normalizeCases {
				if got := Keys(tc.e, tc.region); !slices.Equal(got, tc.want) {
					t.Errorf("%s: Keys = %+v, want %+v", tc.name, got, tc.want)
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}
