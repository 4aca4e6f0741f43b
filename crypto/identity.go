package crypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/internal/fsutil"
)

// Key file names inside a home's key directory.
const (
	MemberKeyFile = "member.key" // Ed25519 signing key, PKCS#8 PEM
	AgeKeyFile    = "age.key"    // age hybrid identity, as age-keygen writes it
	PeerKeyFile   = "peer.key"   // libp2p Ed25519 key, libp2p protobuf
	StoreKeyFile  = "store.key"  // 32 random bytes: Badger at-rest encryption
)

// Identity is everything secret a member's node holds.
type Identity struct {
	Signing  ed25519.PrivateKey
	Age      *age.HybridIdentity
	Peer     p2pcrypto.PrivKey
	StoreKey []byte
}

// GenerateIdentity creates fresh keys.
func GenerateIdentity() (*Identity, error) {
	_, signing, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	ageID, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, err
	}
	peerKey, _, err := p2pcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	storeKey := make([]byte, 32)
	if _, err := rand.Read(storeKey); err != nil {
		return nil, err
	}
	return &Identity{Signing: signing, Age: ageID, Peer: peerKey, StoreKey: storeKey}, nil
}

// MemberID returns the member ID of this identity's signing key.
func (id *Identity) MemberID() string {
	return MemberIDFromKey(id.Signing.Public().(ed25519.PublicKey))
}

// PeerID returns the libp2p peer ID of this node.
func (id *Identity) PeerID() peer.ID {
	pid, err := peer.IDFromPrivateKey(id.Peer)
	if err != nil {
		panic(err) // an Ed25519 key always yields a peer ID
	}
	return pid
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// MemberIDLen is the length of a member ID in characters.
const MemberIDLen = 24

// MemberIDFromKey derives a member ID: the first 15 bytes of SHA-256 of the
// Ed25519 public key, in lowercase unpadded base32 (24 characters).
func MemberIDFromKey(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return strings.ToLower(idEncoding.EncodeToString(sum[:15]))
}

// ValidMemberID reports whether s has the form of a member ID.
func ValidMemberID(s string) bool {
	if len(s) != MemberIDLen {
		return false
	}
	b, err := idEncoding.DecodeString(strings.ToUpper(s))
	return err == nil && len(b) == 15 && strings.ToLower(s) == s
}

// Save writes the identity's key files into dir (created 0700), each mode
// 0600. It refuses to overwrite any existing key file.
func (id *Identity) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating key directory: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(id.Signing)
	if err != nil {
		return err
	}
	peerBytes, err := p2pcrypto.MarshalPrivateKey(id.Peer)
	if err != nil {
		return err
	}
	ageText := fmt.Sprintf("# created by concord init\n# public key: %s\n%s\n", id.Age.Recipient(), id.Age)
	files := []struct {
		name string
		data []byte
	}{
		{MemberKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})},
		{AgeKeyFile, []byte(ageText)},
		{PeerKeyFile, peerBytes},
		{StoreKeyFile, id.StoreKey},
	}
	// Check every file first: stopping half-way would leave a home that
	// neither loads nor accepts a second Save.
	for _, f := range files {
		if err := refuseExisting(filepath.Join(dir, f.name)); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := writeNew(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

func refuseExisting(path string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return fmt.Errorf("key file %s already exists: refusing to overwrite a member's keys (use another home, or move the old keys away first)", path)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("checking key file %s: %w", path, err)
	}
}

// writeNew creates the key file path, never overwriting it; see
// fsutil.WriteNew.
func writeNew(path string, data []byte) error {
	if err := fsutil.WriteNew(path, data); err != nil {
		return fmt.Errorf("writing key file %s: %w", path, err)
	}
	return nil
}

// syncDir makes the new directory entries durable, so that keys created
// just before a power loss are not silently lost.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing key directory %s: %w", dir, err)
	}
	return nil
}

// LoadIdentity reads the key files written by Save.
func LoadIdentity(dir string) (*Identity, error) {
	read := func(name string) ([]byte, error) {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("key file %s is missing: was this home created with `concord init`?", path)
		}
		return data, err
	}
	id := &Identity{}
	data, err := read(MemberKeyFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM private key", MemberKeyFile)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", MemberKeyFile, err)
	}
	signing, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", MemberKeyFile)
	}
	id.Signing = signing

	if data, err = read(AgeKeyFile); err != nil {
		return nil, err
	}
	ids, err := age.ParseIdentities(strings.NewReader(string(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", AgeKeyFile, err)
	}
	hybrid, ok := ids[0].(*age.HybridIdentity)
	if len(ids) != 1 || !ok {
		return nil, fmt.Errorf("%s: want exactly one age hybrid (post-quantum) identity", AgeKeyFile)
	}
	id.Age = hybrid

	if data, err = read(PeerKeyFile); err != nil {
		return nil, err
	}
	if id.Peer, err = p2pcrypto.UnmarshalPrivateKey(data); err != nil {
		return nil, fmt.Errorf("%s: %w", PeerKeyFile, err)
	}

	if data, err = read(StoreKeyFile); err != nil {
		return nil, err
	}
	if len(data) != 32 {
		return nil, fmt.Errorf("%s: is %d bytes, want 32", StoreKeyFile, len(data))
	}
	id.StoreKey = data
	return id, nil
}
