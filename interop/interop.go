package interop

import (
	"time"

	"github.com/concordnet/concord/protocol"
)

// Item is one bulletin as the node holds it, for export: its latest
// version (content erased when revoked or expired) and where it was shared.
type Item struct {
	Bulletin  *protocol.Bulletin // nil content fields for a tombstone: only ID, Version, Created, Modified, Originator, Category are set
	Topic     string             // topic ID (64 hex characters)
	TopicName string
	Revoked   bool
	RevokedAt time.Time
	Reason    string // the revocation's reason
}

// Draft is one bulletin an import makes from a foreign object, for an
// analyst to review (written as a Markdown bulletin file) or to publish.
type Draft struct {
	Draft protocol.BulletinDraft
	// Source names the foreign object it came from (a STIX object ID such
	// as "report--…", or "misp-event:<uuid>"), so that importing the same
	// file twice publishes nothing twice.
	Source string
}
