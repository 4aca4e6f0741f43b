package node

import (
	"testing"

	"github.com/concordnet/concord/internal/canon"
)

// The request and response decoders of /concord/join/1 and
// /concord/sync/1: never panic, and accept only canonical encodings.
func FuzzProtocolMessages(f *testing.F) {
	for _, v := range []any{
		SyncRequest{Kind: syncKindLog, Topic: make([]byte, 32), From: 3, Head: make([]byte, 32)},
		SyncRequest{Kind: syncKindEnvelopes, Topic: make([]byte, 32), From: 1, To: 9, Author: "aaaaaaaaaaaaaaaaaaaaaaaa"},
		SyncResponse{Heads: map[string]uint64{"a": 1}, LogLen: 2, More: true},
		JoinRequest{Invitation: []byte{1}, Card: []byte{2}, Proof: []byte{3}},
		JoinResponse{Entries: [][]byte{{1}}, Error: "refused"},
	} {
		data, err := canon.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{0xa1, 0x64, 'k', 'i', 'n', 'd', 0x63, 'l', 'o', 'g'})
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(v any) {
			if canon.Unmarshal(data, v) != nil {
				return
			}
			again, err := canon.Marshal(v)
			if err != nil || string(again) != string(data) {
				t.Fatalf("accepted bytes do not re-encode identically")
			}
		}
		check(&SyncRequest{})
		check(&SyncResponse{})
		check(&JoinRequest{})
		check(&JoinResponse{})
	})
}
