package api

import (
	"time"

	"github.com/concordnet/concord/protocol"
)

// SearchHit is one answer of GET /v1/search: the bulletin as list shows
// it, how well it matched, what matched, and a short excerpt around the
// first match.
type SearchHit struct {
	Bulletin
	Score   float64  `json:"score"`
	Matches []string `json:"matches"`
	Excerpt string   `json:"excerpt,omitempty"`
}

// Related answers GET /v1/bulletins/{id}/related: the other bulletins
// this node can read that share a normalised entity with bulletin ID,
// grouped by entity.
type Related struct {
	ID     string         `json:"id"`
	Groups []RelatedGroup `json:"groups"`
}

// RelatedGroup is one shared entity and the other bulletins holding it.
type RelatedGroup struct {
	Entity  string `json:"entity"` // TYPE:VALUE, normalised
	Type    string `json:"type"`
	Value   string `json:"value"`
	Flagged bool   `json:"flagged,omitempty"` // the value failed its type's check
	// Total counts the other bulletins holding the entity; Bulletins lists
	// the newest of them (up to the request's limit), none when Common.
	Total int `json:"total"`
	// Common is set when Total is above [search] common_threshold: the
	// value is too frequent to mean anything, so it is only counted.
	Common    bool              `json:"common,omitempty"`
	Bulletins []RelatedBulletin `json:"bulletins"`
}

// RelatedBulletin names one related bulletin: where it is and who wrote it.
type RelatedBulletin struct {
	ID         string              `json:"id"`
	Topic      string              `json:"topic"`
	TopicName  string              `json:"topic_name"`
	Category   string              `json:"category"`
	Author     string              `json:"author"`
	Originator protocol.Originator `json:"originator"`
	Created    time.Time           `json:"created"`
	TLP        string              `json:"tlp"`
	Title      string              `json:"title"`
}

// ReindexProgress is one line of the stream POST /v1/reindex answers:
// progress lines, then one with Finished (or Error) set.
type ReindexProgress struct {
	Done     int    `json:"done"`
	Total    int    `json:"total"`
	Finished bool   `json:"finished,omitempty"`
	Elapsed  string `json:"elapsed,omitempty"` // Go duration, on the last line
	Error    string `json:"error,omitempty"`
}
