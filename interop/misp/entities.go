package misp

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// template identifies a misp-objects template. The UUIDs and versions are
// those of github.com/MISP/misp-objects (checked by the tests against the
// vendored definitions).
type template struct {
	name, uuid, version, metaCategory, description string
}

// relation maps one entity field to an object attribute. ok, when set,
// says whether a value fits the MISP type; a value that does not fit stays
// in the comment with the other unmapped fields.
type relation struct {
	field, relation, attrType, category string
	ok                                  func(string) bool
}

// objectMap represents an entity type as a MISP object: the entity's value
// under relation value, some fields under their own relations.
type objectMap struct {
	entity string
	tmpl   template
	value  relation // field is unused
	fields []relation
}

// needsField names the templates that require one of the field relations,
// not the value's: an entity with none of them is a text attribute.
var needsField = map[string]bool{"geolocation": true}

func isFloat(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }
func isDate(s string) bool  { _, err := time.Parse(time.DateOnly, s); return err == nil }

func text(field, rel string) relation { return relation{field, rel, "text", "Other", nil} }

// objectMaps lists the object representations, vessel with an MMSI (ais,
// which requires one) before vessel without (ftm-Vessel).
var objectMaps = []objectMap{
	{"person", template{"person", "a15b0477-e9d1-4b9c-9546-abe78a4f4248", "21", "misc",
		"An object which describes a person or an identity."},
		relation{"", "full-name", "full-name", "Person", nil}, []relation{
			{"dob", "date-of-birth", "date-of-birth", "Person", isDate},
			{"nationality", "nationality", "nationality", "Person", nil},
			{"gender", "gender", "gender", "Person", nil},
			{"place_of_birth", "place-of-birth", "place-of-birth", "Person", nil},
			{"passport", "passport-number", "passport-number", "Person", nil},
		}},
	{"organization", template{"organization", "f750e12b-127a-432c-b022-b3f9153c4e2a", "9", "misc",
		"An object which describes an organization."},
		text("", "name"), []relation{text("registration", "registration-number")}},
	{"vessel", template{"ais", "ef90551a-ff34-472c-9fba-c272c4435baa", "4", "marine",
		"Automatic Identification System (AIS) baseline vessel telemetry object (identity, voyage and navigation data). Use together with ais-observation when sharing suspicious/spoofed AIS observations."},
		text("", "name"), []relation{text("mmsi", "MMSI"), text("imo", "IMO-number"),
			text("callsign", "call-sign")}},
	{"vessel", template{"ftm-Vessel", "2ee3df38-7756-4179-abea-ba8d2fbb7c6c", "1", "followthemoney",
		"A boat or ship"},
		text("", "name"), []relation{text("imo", "imoNumber"), text("flag", "flag"),
			text("callsign", "callSign")}},
	{"vehicle", template{"vehicle", "683c076c-f695-4ff2-8efa-e98a418049f4", "5", "misc",
		"Vehicle object template to describe a vehicle information and registration"},
		text("", "description"), []relation{text("plate", "license-plate-number"),
			text("vin", "vin"), text("make", "make"), text("model", "model")}},
	{"aircraft", template{"ftm-Airplane", "ea720b4a-8849-44a5-a150-eab87b86de2c", "2", "followthemoney",
		"An airplane, helicopter or other flying vehicle."},
		text("", "name"), []relation{text("registration", "registrationNumber"),
			text("icao", "icaoCode"), text("model", "model"), text("manufacturer", "manufacturer"),
			text("serial", "serialNumber")}},
	{"location", template{"geolocation", "cd6f2238-ba55-4888-82c4-104e6e1acf21", "8", "misc",
		"An object to describe a geographic location."},
		text("", "text"), []relation{
			{"lat", "latitude", "float", "Other", isFloat}, {"lon", "longitude", "float", "Other", isFloat},
			text("country", "country"), text("city", "city")}},
}

// objectMapFor returns how to represent an entity as an object, if it is.
func objectMapFor(entityType string, fields map[string]string) (objectMap, bool) {
	for _, m := range objectMaps {
		if m.entity != entityType {
			continue
		}
		if m.tmpl.name == "ais" && fields["mmsi"] == "" {
			continue
		}
		return m, true
	}
	return objectMap{}, false
}

// attrKind is how an entity type without an object becomes one attribute.
type attrKind struct{ attrType, category string }

var attrKinds = map[string]attrKind{
	"phone":       {"phone-number", "Person"},
	"email":       {"email", "Person"},
	"iban":        {"iban", "Financial fraud"},
	"passport":    {"passport-number", "Person"},
	"id-document": {"identity-card-number", "Person"},
	"firearm":     {"text", "Other"},
	"other":       {"text", "Other"},
}

var (
	btcAddress = regexp.MustCompile(`^(bc1[a-z0-9]{25,87}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})$`)
	xmrAddress = regexp.MustCompile(`^[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}$`)
)

// cryptoKind picks btc or xmr when the currency field or the address's
// form says so; any other currency is a text attribute.
func cryptoKind(value string, fields map[string]string) attrKind {
	cur := strings.ToLower(fields["currency"])
	switch {
	case cur == "btc" || cur == "bitcoin" || cur == "" && btcAddress.MatchString(value):
		return attrKind{"btc", "Financial fraud"}
	case cur == "xmr" || cur == "monero" || cur == "" && xmrAddress.MatchString(value):
		return attrKind{"xmr", "Financial fraud"}
	}
	return attrKind{"text", "Financial fraud"}
}

// entityComment names the Concord entity type and its position in the
// bulletin in a comment, with the fields no MISP relation carries as JSON,
// so that Import restores the entity exactly.
func entityComment(entityType string, index int, rest map[string]string) string {
	c := fmt.Sprintf("concord entity %s #%d", entityType, index+1)
	if len(rest) > 0 {
		b, _ := json.Marshal(rest) // a map of strings always marshals; keys sorted
		c += " fields=" + string(b)
	}
	return c
}

// parseEntityComment is the inverse of entityComment; index is -1 when
// the comment gives none.
func parseEntityComment(c string) (entityType string, index int, fields map[string]string, ok bool) {
	rest, found := strings.CutPrefix(c, "concord entity ")
	if !found {
		return "", 0, nil, false
	}
	rest, js, hasFields := strings.Cut(rest, " fields=")
	if hasFields && json.Unmarshal([]byte(js), &fields) != nil {
		return "", 0, nil, false
	}
	entityType, pos, _ := strings.Cut(rest, " #")
	index = -1
	if n, err := strconv.Atoi(pos); err == nil && n > 0 {
		index = n - 1
	}
	return entityType, index, fields, true
}
