// Package backup holds the backup archive format of a Concord node: how
// a home and a database snapshot are written into one archive, sealed
// under a passphrase, and read back and checked. Taking the snapshot and
// restoring a home are the node's work; this package only knows the
// bytes.
//
// # Byte layout
//
// A backup file is age(tar): an age file (age-encryption.org/v1) with a
// single scrypt recipient, the passphrase, whose plaintext is a tar
// archive. The tar (format 1) holds regular files only, each mode 0600,
// uid and gid 0, modified at the manifest's creation time (to the
// second), in this order:
//
//	manifest.json      Manifest, indented JSON: read and checked first
//	config.toml        the home's config, byte for byte
//	keys/member.key    the key files, byte for byte
//	keys/age.key
//	keys/peer.key
//	keys/store.key
//	db.backup.000000   the Badger backup stream (DB.Load format), cut into
//	db.backup.000001   chunks of at most 4 MiB, numbered from 0
//	…
//	db.json            DB, indented JSON: size, chunk count and SHA-256
//	                   of the stream, and its highest Badger version
//
// then the two zero blocks that end a tar. Headers are USTAR (the first
// format Go's archive/tar can encode them in). The manifest, config and
// keys hold at most 1 MiB each.
//
// A tar header states its entry's size, and a snapshot's size is known
// only once written: hence the chunks, so that the writer buffers one and
// never a whole database, and db.json at the end rather than in the
// manifest. An archive holds the member's secret keys and the database
// decrypted: it is sealed (Seal) before it touches a disk.
//
// # Entry points
//
//   - Write writes an archive of a home's files and a Snapshotter.
//   - Verify reads an archive to its end and checks it; Reader.Read does
//     the same and hands the home's files and the database stream to the
//     caller on the way, for a restore.
//   - Seal and Open encrypt and decrypt a backup file under a passphrase.
//
// # Dependencies
//
// filippo.io/age for sealing, and crypto for the key files' names and
// member IDs. It imports nothing of the node: the snapshot is anything
// with a Backup method (the node's store), and the build's version, named
// when an archive is too new, is given by the caller.
package backup
