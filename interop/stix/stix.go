package stix

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Fixed identifiers: changing any of them changes every exported ID.
const (
	// namespace is the UUIDv5 namespace of every ID Concord derives.
	namespace = "f14b0e1a-7294-4e2c-ad93-7c647b330901"
	// ExtensionID is the Concord extension-definition: the concord-entity
	// SCO type and the property extension on reports, entities and
	// artifacts. Its schema is docs/stix-extension.json.
	ExtensionID = "extension-definition--c1cd5211-66cb-41a8-880d-9c46e9bd6af4"
	// ExtensionSchemaURL is where the extension's schema is published.
	ExtensionSchemaURL = "https://raw.githubusercontent.com/concordnet/concord/main/docs/stix-extension.json"
	// concordIdentity is the identity that created the extension-definition.
	concordIdentity = "identity--fca310bb-b111-4abc-b774-603cb67b5a2f"
	// extensionCreated dates the extension-definition and its identity.
	extensionCreated = "2026-01-01T00:00:00.000Z"
	// EntityType is the STIX type of the SCO for entities STIX has no
	// object for (phone, IBAN, vessel…).
	EntityType = "concord-entity"
	// tlp2Extension defines the TLP 2.0 marking-definitions (OASIS).
	tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	tlp2Created   = "2022-10-01T00:00:00.000Z"
)

// TLPMarkings maps each TLP 2.0 label to its OASIS marking-definition ID.
var TLPMarkings = map[string]string{
	"CLEAR":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	"GREEN":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	"AMBER":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	"AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	"RED":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// importMarkings adds the IDs other tools use: the TLP 1.0 ones OASIS
// published with STIX 2.0/2.1 (WHITE reads as CLEAR), which OpenCTI also
// uses for CLEAR, GREEN, AMBER and RED, and OpenCTI's own AMBER+STRICT.
var importMarkings = map[string]string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
	"marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": "AMBER+STRICT",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
}

// tlpRank orders TLP labels from least to most restrictive.
var tlpRank = map[string]int{"CLEAR": 0, "GREEN": 1, "AMBER": 2, "AMBER+STRICT": 3, "RED": 4}

// stixID returns type--UUIDv5(namespace, the parts joined by NUL).
func stixID(typ string, parts ...string) string {
	h := sha1.New()
	h.Write(parseUUID(namespace))
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%s--%x-%x-%x-%x-%x", typ, u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func parseUUID(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("stix: bad UUID constant " + s)
	}
	return b
}

// timestamp writes t as STIX wants: UTC, exactly millisecond precision.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
