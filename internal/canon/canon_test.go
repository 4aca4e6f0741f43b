package canon

import (
	"errors"
	"testing"
	"time"
)

type sample struct {
	B  []byte    `cbor:"b"`
	A  string    `cbor:"a"`
	N  uint64    `cbor:"n,omitempty"`
	At time.Time `cbor:"at"`
}

func TestRoundTrip(t *testing.T) {
	in := sample{A: "x", B: []byte{1, 2}, N: 7, At: time.Date(2026, 11, 27, 10, 0, 0, 500, time.UTC)}
	data, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out sample
	if err := Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.A != in.A || string(out.B) != string(in.B) || out.N != in.N || !out.At.Equal(in.At) {
		t.Fatalf("round trip changed value: %+v != %+v", out, in)
	}
}

func TestRejectsNonCanonical(t *testing.T) {
	// {"a": "x"} with the length of "x" written in a longer form than needed.
	nonMinimal := []byte{0xa1, 0x61, 'a', 0x78, 0x01, 'x'}
	var out sample
	if err := Unmarshal(nonMinimal, &out); !errors.Is(err, ErrNotCanonical) {
		t.Fatalf("got %v, want ErrNotCanonical", err)
	}
}

func TestRejectsUnknownFieldsAndTrailingBytes(t *testing.T) {
	unknown := []byte{0xa1, 0x61, 'z', 0x01}
	var out sample
	if err := Unmarshal(unknown, &out); err == nil {
		t.Fatal("unknown field accepted")
	}
	good, _ := Marshal(sample{A: "x"})
	if err := Unmarshal(append(good, 0), &out); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func FuzzUnmarshal(f *testing.F) {
	good, _ := Marshal(sample{A: "x", B: []byte{1}})
	f.Add(good)
	f.Add([]byte{0xa1, 0x61, 'a', 0x78, 0x01, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s sample
		if Unmarshal(data, &s) != nil {
			return
		}
		again, err := Marshal(s)
		if err != nil || string(again) != string(data) {
			t.Fatalf("accepted bytes do not re-encode identically")
		}
	})
}
