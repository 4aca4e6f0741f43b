package crypto

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/concordnet/concord/internal/golden"
)

// goldenEpochStanza is the epoch stanza of docs/protocol.md §8.4 with
// every input fixed, the nonce included, and each intermediate value.
type goldenEpochStanza struct {
	Name     string `json:"name"`
	EpochKey string `json:"epoch_key"`
	Epoch    uint64 `json:"epoch"`
	Topic    string `json:"topic_hex"`
	FileKey  string `json:"file_key_hex"`
	Nonce    string `json:"nonce_hex"`
	Secret   string `json:"secret_hex"`
	Salt     string `json:"salt_hex"`
	Info     string `json:"info"`
	Key      string `json:"key_hex"`
	AAD      string `json:"aad_hex"`
	Body     string `json:"body_hex"`
	Stanza   string `json:"stanza"` // as it stands in the age header
}

func buildGoldenEpochStanza(t *testing.T) goldenEpochStanza {
	var keys struct {
		EpochKeys map[string]string `json:"epoch_keys"`
	}
	golden.Read(t, filepath.Join("testdata", "identities.json"), &keys)
	k, err := ParseEpochKey(1, keys.EpochKeys["1"])
	if err != nil {
		t.Fatal(err)
	}
	var topic [32]byte
	for i := range topic {
		topic[i] = byte(i)
	}
	fileKey := bytes.Repeat([]byte{0xf1}, 16)
	nonce := bytes.Repeat([]byte{0x4e}, 24)
	s := k.stanzaKey(topic)
	st, err := s.wrap(fileKey, nonce)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := hybridSeed(k.Identity)
	return goldenEpochStanza{
		Name:     "epoch stanza: file key f1×16 of an envelope on topic 00…1f at epoch 1, nonce 4e×24",
		EpochKey: k.String(), Epoch: 1, Topic: hex.EncodeToString(topic[:]),
		FileKey: hex.EncodeToString(fileKey), Nonce: hex.EncodeToString(nonce),
		Secret: hex.EncodeToString(secret), Salt: hex.EncodeToString(s.bound()), Info: epochStanzaInfo,
		Key: hex.EncodeToString(s.key), AAD: hex.EncodeToString(s.bound()), Body: hex.EncodeToString(st.Body),
		Stanza: headerStanza(t, st),
	}
}

// fixedStanza is a recipient that writes one given stanza.
type fixedStanza struct{ st *age.Stanza }

func (f fixedStanza) Wrap([]byte) ([]*age.Stanza, error) { return []*age.Stanza{f.st}, nil }

// headerStanza is st as age writes it in a header.
func headerStanza(t *testing.T, st *age.Stanza) string {
	ct, err := Encrypt(nil, fixedStanza{st})
	if err != nil {
		t.Fatal(err)
	}
	hdr := string(ct)
	start, end := strings.Index(hdr, "\n-> ")+1, strings.Index(hdr, "\n---")+1
	return hdr[start:end]
}

func TestGoldenEpochStanza(t *testing.T) {
	got := buildGoldenEpochStanza(t)
	golden.Write(t, *update, "epoch_stanza.json", got)
	var want goldenEpochStanza
	golden.Read(t, filepath.Join("testdata", "epoch_stanza.json"), &want)
	if got != want {
		t.Fatalf("epoch stanza differs from testdata/epoch_stanza.json:\n got %+v\nwant %+v", got, want)
	}
	// The stored stanza opens with the epoch key alone.
	k, err := ParseEpochKey(want.Epoch, want.EpochKey)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(want.Stanza)
	st := &age.Stanza{Type: lines[1], Args: lines[2:4], Body: golden.Unhex(t, want.Body)}
	fileKey, err := k.EnvelopeIdentity([32]byte(golden.Unhex(t, want.Topic))).Unwrap([]*age.Stanza{st})
	if err != nil || hex.EncodeToString(fileKey) != want.FileKey {
		t.Fatalf("stored stanza: file key %x, %v", fileKey, err)
	}
}
