package canon

import (
	"encoding/hex"
	"reflect"

	"github.com/fxamacker/cbor/v2"
)

var diagMode, _ = cbor.DecOptions{DefaultMapType: reflect.TypeOf(map[string]any(nil))}.DecMode()

// Diagnostic decodes CBOR without a schema, maps as map[string]any and
// byte strings as "h'…'" hex: what a reader of docs/protocol.md sees, with
// the keys as they travel. Golden vectors store it beside the bytes.
func Diagnostic(data []byte) (any, error) {
	var v any
	if err := diagMode.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return hexBytes(v), nil
}

// DecodeGeneric decodes CBOR into v with maps as map[string]any.
func DecodeGeneric(data []byte, v any) error { return diagMode.Unmarshal(data, v) }

func hexBytes(v any) any {
	switch x := v.(type) {
	case []byte:
		return "h'" + hex.EncodeToString(x) + "'"
	case map[string]any:
		for k, e := range x {
			x[k] = hexBytes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = hexBytes(e)
		}
	}
	return v
}
