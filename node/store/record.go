package store

import (
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Records are stored in CBOR since schema 4, with the field names of
// their JSON tags: IDs are byte strings there, not JSON's arrays of
// numbers, and a record is about half the JSON it was, small enough to
// stay beside its key in Badger's tree rather than in the value log.
// Records of older stores are JSON, which always starts with '{' (0x7b,
// a CBOR text string of 27 bytes, never a record, which is a map), and
// still decode.
var (
	recordEnc cbor.EncMode
	recordDec cbor.DecMode
)

func init() {
	eo := cbor.CoreDetEncOptions()
	eo.Time = cbor.TimeRFC3339Nano // nanoseconds and UTC kept, as in JSON
	eo.TimeTag = cbor.EncTagNone
	var err error
	if recordEnc, err = eo.EncMode(); err != nil {
		panic(err)
	}
	if recordDec, err = (cbor.DecOptions{TimeTag: cbor.DecTagIgnored}).DecMode(); err != nil {
		panic(err)
	}
}

func encodeRecord(rec *BulletinRecord) ([]byte, error) { return recordEnc.Marshal(rec) }

// decodeRecord decodes a stored record, CBOR or the JSON of older stores.
func decodeRecord(v []byte, rec *BulletinRecord) error {
	var err error
	if len(v) > 0 && v[0] == '{' {
		err = json.Unmarshal(v, rec)
	} else {
		err = recordDec.Unmarshal(v, rec)
	}
	if err != nil {
		return fmt.Errorf("decoding bulletin record: %w", err)
	}
	return nil
}
