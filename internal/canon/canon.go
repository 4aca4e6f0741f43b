package canon

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Limits applied to every decode, whatever the structure.
const (
	maxNesting  = 16
	maxElements = 4096
)

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	eo := cbor.CoreDetEncOptions()
	eo.Time = cbor.TimeRFC3339Nano
	eo.TimeTag = cbor.EncTagNone
	// One encoding for an empty list or map: [] or {}, never null.
	eo.NilContainers = cbor.NilContainerAsEmpty
	var err error
	if encMode, err = eo.EncMode(); err != nil {
		panic(err)
	}
	dm, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		TimeTag:           cbor.DecTagIgnored,
		MaxNestedLevels:   maxNesting,
		MaxArrayElements:  maxElements,
		MaxMapPairs:       maxElements,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	decMode = dm
}

// ErrNotCanonical reports bytes that decode but are not the deterministic
// encoding of what they hold.
var ErrNotCanonical = errors.New("not in canonical CBOR form")

// Marshal encodes v deterministically.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes data into v, refusing trailing bytes, unknown fields,
// duplicate keys, tags, indefinite lengths and non-canonical encodings.
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return err
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("re-encoding: %w", err)
	}
	if !bytes.Equal(again, data) {
		return ErrNotCanonical
	}
	return nil
}
