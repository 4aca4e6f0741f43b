// Package stix converts bulletins to and from STIX 2.1 bundles.
//
// Export writes one report per bulletin, the originator as an identity
// located in its State, entities as the STIX objects that exist for them
// (email-addr, identity, location, ipv4-addr…) and, where STIX has none,
// as concord-entity objects defined by the Concord extension-definition
// (docs/stix-extension.json), which also carries what STIX cannot say
// (handling code, 4x4 grading, references) as a property extension.
// Import maps a bundle back to drafts after validating it against the
// official OASIS STIX 2.1 JSON schemas, embedded in the binary.
//
// # Entry points
//
// Export, Import, and Validate (the schema check Import runs first).
//
// # Dependencies
//
// interop, protocol, internal/iso3166, and santhosh-tekuri/jsonschema for
// the schemas.
package stix
