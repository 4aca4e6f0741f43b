package stix

import (
	"fmt"
	"maps"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/concordnet/concord/internal/iso3166"
	"github.com/concordnet/concord/protocol"
)

// entityObject maps an entity to the STIX object that exists for it, else
// to a concord-entity. Every object carries the entity's Concord type and
// fields in the Concord extension, so an import gives the entity back as
// it was. seen makes IDs unique when a bulletin repeats an entity.
func entityObject(b *protocol.Bulletin, en protocol.Entity, seen map[string]bool) object {
	parts := []string{b.ID, "entity", en.Type, normalise(en.Value)}
	o := standardObject(b, en)
	typ := EntityType
	if o != nil {
		typ = o["type"].(string)
	}
	id := stixID(typ, parts...)
	for n := 2; seen[id]; n++ {
		id = stixID(typ, append(parts, strconv.Itoa(n))...)
	}
	seen[id] = true
	if o == nil {
		o = object{"type": EntityType, "spec_version": "2.1", "entity_type": en.Type, "value": en.Value,
			"extensions": object{ExtensionID: object{"extension_type": "new-sco"}}}
		if len(en.Fields) > 0 {
			o["fields"] = maps.Clone(en.Fields)
		}
	} else {
		ext := object{"extension_type": "property-extension", "entity_type": en.Type}
		if len(en.Fields) > 0 {
			ext["fields"] = maps.Clone(en.Fields)
		}
		o["extensions"] = object{ExtensionID: ext}
	}
	o["id"] = id
	return o
}

// normalise is the form of a value that names the same entity.
func normalise(v string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(v, unicode.IsSpace), " "))
}

// standardObject returns the STIX object for en without its ID and
// extension, or nil when STIX has none that holds its value verbatim.
func standardObject(b *protocol.Bulletin, en protocol.Entity) object {
	v := en.Value
	switch en.Type {
	case "person", "organization":
		o := sdo("identity", "", b.Created, b.Modified)
		o["name"] = v
		o["identity_class"] = map[string]string{"person": "individual", "organization": "organization"}[en.Type]
		return o
	case "email":
		if a, err := mail.ParseAddress(v); err == nil && a.Name == "" && a.Address == v {
			return sco("email-addr", "value", v)
		}
	case "location":
		return locationObject(b, en)
	case "other":
		return observable(v)
	}
	return nil
}

// locationObject maps a location entity with a country field (alpha-3
// or alpha-2) or latitude and longitude fields; STIX requires one of them.
func locationObject(b *protocol.Bulletin, en protocol.Entity) object {
	o := sdo("location", "", b.Created, b.Modified)
	o["name"] = en.Value
	c := strings.ToUpper(en.Fields["country"])
	if a, ok := iso3166.Alpha2(c); ok {
		o["country"] = a
	} else if iso3166.IsAlpha2(c) {
		o["country"] = c
	}
	lat, err1 := strconv.ParseFloat(en.Fields["latitude"], 64)
	lon, err2 := strconv.ParseFloat(en.Fields["longitude"], 64)
	if err1 == nil && err2 == nil && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		o["latitude"], o["longitude"] = lat, lon
	}
	if o["country"] == nil && o["latitude"] == nil {
		return nil
	}
	return o
}

var (
	domainName = regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	hexDigits  = regexp.MustCompile(`^[0-9a-fA-F]+$`)
	hashByLen  = map[int]string{32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
)

// observable recognises an "other" entity that is an IP address, a URL,
// a file hash or a domain name.
func observable(v string) object {
	if a, err := netip.ParseAddr(v); err == nil && a.String() == v {
		if a.Is4() {
			return sco("ipv4-addr", "value", v)
		}
		return sco("ipv6-addr", "value", v)
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" && !strings.ContainsAny(v, " \t") {
		return sco("url", "value", v)
	}
	if algo := hashByLen[len(v)]; algo != "" && hexDigits.MatchString(v) {
		return object{"type": "file", "spec_version": "2.1", "hashes": object{algo: v}}
	}
	if domainName.MatchString(v) {
		return sco("domain-name", "value", v)
	}
	return nil
}

func sco(typ, key, v string) object {
	return object{"type": typ, "spec_version": "2.1", key: v}
}

// entityFrom maps a STIX object to an entity: exactly the exported one
// when the Concord extension says its type, else the closest Concord
// type. ok is false for an object that is not an entity.
func entityFrom(o object) (protocol.Entity, bool) {
	typ, _ := o["type"].(string)
	ext, hasExt := extensionOf(o)
	value := naturalValue(o)
	if typ == EntityType {
		en := protocol.Entity{Type: str(o, "entity_type"), Value: value, Fields: stringMap(o["fields"])}
		return en, en.Type != "" && en.Value != ""
	}
	if hasExt && str(ext, "entity_type") != "" && value != "" {
		return protocol.Entity{Type: str(ext, "entity_type"), Value: value, Fields: stringMap(ext["fields"])}, true
	}
	if hasExt && str(ext, "member") != "" {
		return protocol.Entity{}, false // a Concord originator, not an entity
	}
	return foreignEntity(o, typ, value)
}

// foreignEntity maps an object another tool made.
func foreignEntity(o object, typ, value string) (protocol.Entity, bool) {
	if value == "" {
		return protocol.Entity{}, false
	}
	fields := map[string]string{}
	en := protocol.Entity{Value: value}
	switch typ {
	case "identity":
		switch str(o, "identity_class") {
		case "individual":
			en.Type = "person"
		case "organization":
			en.Type = "organization"
		default:
			return en, false
		}
	case "email-addr":
		en.Type = "email"
	case "location":
		en.Type = "location"
		for _, k := range []string{"country", "region", "administrative_area", "city", "street_address", "postal_code"} {
			if v := str(o, k); v != "" {
				fields[k] = v
			}
		}
		for _, k := range []string{"latitude", "longitude"} {
			if v, ok := o[k]; ok {
				fields[k] = fmt.Sprint(v)
			}
		}
	case "domain-name", "ipv4-addr", "ipv6-addr", "url", "file", "mac-addr":
		en.Type = "other"
		fields["stix_type"] = typ
	default:
		return en, false
	}
	if len(fields) > 0 {
		en.Fields = fields
	}
	return en, true
}

// naturalValue is the property that holds an entity's value in a STIX
// object of o's type.
func naturalValue(o object) string {
	switch typ, _ := o["type"].(string); typ {
	case "identity", "location":
		if n := str(o, "name"); n != "" {
			return n
		}
		return str(o, "country")
	case "file":
		h, _ := o["hashes"].(map[string]any)
		for _, algo := range []string{"SHA-256", "SHA-1", "MD5", "SHA-512"} {
			if v, ok := h[algo].(string); ok {
				return v
			}
		}
		return str(o, "name")
	}
	return str(o, "value")
}

func str(o map[string]any, key string) string {
	s, _ := o[key].(string)
	return s
}

// stringMap returns the string values of a JSON object, nil when empty.
func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
