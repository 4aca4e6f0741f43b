// Package iso3166 maps ISO 3166-1 alpha-3 country codes (what bulletins
// carry) to alpha-2 (what STIX locations and phone-number regions use).
//
// Alpha2, Alpha3 and IsAlpha2 read the table in codes.go, generated from
// Debian's iso-codes; it depends on the standard library only.
package iso3166
