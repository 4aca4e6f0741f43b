package api

import "time"

// WatchRequest is POST /v1/watchlist: a TYPE:VALUE entity term, or words
// that must all appear in a bulletin.
type WatchRequest struct {
	Term string `json:"term"`
	Note string `json:"note,omitempty"`
}

// WatchEntry is one entry of GET /v1/watchlist. Watchlists are local:
// nothing of them leaves the node.
type WatchEntry struct {
	ID   string `json:"id"`
	Term string `json:"term"` // as given
	// Match is what bulletins are matched on: the entity's canonical
	// TYPE:VALUE, or the folded words.
	Match   string    `json:"match"`
	Kind    string    `json:"kind"`              // "entity" or "words"
	Flagged bool      `json:"flagged,omitempty"` // the value failed its type's check
	Note    string    `json:"note,omitempty"`
	Created time.Time `json:"created"`
}

// Alert is one alert of GET /v1/alerts and GET /v1/alerts/watch, and the
// JSON line handed to [alerts] exec and file.
type Alert struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Kind is "watchlist" (the bulletin matched a watchlist entry) or
	// "correlation" (it shares an entity with bulletins of other
	// originators held here before it).
	Kind     string     `json:"kind"`
	Bulletin AlertRef   `json:"bulletin"`
	Version  int        `json:"version"`
	Term     string     `json:"term"` // the matched TYPE:VALUE or words
	Watch    string     `json:"watch,omitempty"`
	Note     string     `json:"note,omitempty"`
	Others   []AlertRef `json:"others,omitempty"`
	// OtherTotal counts the other bulletins holding Term when there were
	// more than Others lists.
	OtherTotal int `json:"other_total,omitempty"`
}

// AlertRef is a bulletin an alert names, with its state now: an alert
// stays as history when its bulletin is revoked or erased.
type AlertRef struct {
	ID         string `json:"id"`
	Topic      string `json:"topic"`
	TopicName  string `json:"topic_name,omitempty"`
	Title      string `json:"title,omitempty"`
	Originator string `json:"originator"` // member ID
	Country    string `json:"country,omitempty"`
	Agency     string `json:"agency,omitempty"`
	Revoked    bool   `json:"revoked,omitempty"`
	Expired    bool   `json:"expired,omitempty"` // erased here by retention
}
