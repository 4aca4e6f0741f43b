package crypto

import (
	"errors"
	"strings"

	"filippo.io/age"
)

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// hybridSeed returns the 32-byte secret of an age hybrid identity: the
// data of its AGE-SECRET-KEY-PQ-1… string, which age checked when it made
// or parsed the identity (age exposes no other accessor).
func hybridSeed(id *age.HybridIdentity) ([]byte, error) {
	seed, err := bech32Data(id.String())
	if err != nil || len(seed) != 32 {
		return nil, errors.New("the epoch identity's secret is not 32 bytes of bech32 data")
	}
	return seed, nil
}

// bech32Data returns the data of a bech32 string whose checksum was
// already checked, in 8-bit bytes.
func bech32Data(s string) ([]byte, error) {
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	if sep < 0 || len(s)-sep-1 < 6 {
		return nil, errors.New("not bech32: no data")
	}
	var out []byte
	acc, bits := 0, 0
	for _, c := range s[sep+1 : len(s)-6] { // the last 6 are the checksum
		v := strings.IndexRune(bech32Charset, c)
		if v < 0 {
			return nil, errors.New("not bech32: a character outside its alphabet")
		}
		acc, bits = acc<<5|v, bits+5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	if acc != 0 {
		return nil, errors.New("not bech32: non-zero padding")
	}
	return out, nil
}
