package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// MaxImportSource bounds a source name: a STIX ID or "misp-event:<uuid>"
// is under 100 bytes, and a key must stay small.
const MaxImportSource = 512

// PutImport records that the foreign object source (a STIX object ID, a
// MISP event) was published here as bulletinID, so that importing the
// same file again publishes nothing twice. A later record replaces an
// earlier one.
func (s *Store) PutImport(ctx context.Context, source, bulletinID string) error {
	if err := checkImportSource(source); err != nil {
		return err
	}
	if bulletinID == "" {
		return errors.New("an import record needs the bulletin ID it was published as")
	}
	return s.Update(ctx, func(txn *badger.Txn) error {
		return txn.Set(key(pfxImport, []byte(source)), []byte(bulletinID))
	})
}

// Import returns the bulletin that source was published as, or
// ErrNotFound when it was never imported here.
func (s *Store) Import(source string) (bulletinID string, err error) {
	if err := checkImportSource(source); err != nil {
		return "", err
	}
	err = s.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, key(pfxImport, []byte(source)))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		bulletinID = string(v)
		return err
	})
	return bulletinID, err
}

func checkImportSource(source string) error {
	if source == "" || len(source) > MaxImportSource {
		return fmt.Errorf("import source %q: want the foreign object's ID, 1 to %d bytes", source, MaxImportSource)
	}
	return nil
}
