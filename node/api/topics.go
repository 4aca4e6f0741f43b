package api

import (
	"time"

	"github.com/concordnet/concord/protocol"
)

// Category is one entry of GET /v1/categories.
type Category struct {
	Slug     string `json:"slug"`
	Title    string `json:"title"`
	Articles string `json:"articles"`
}

// CreateTopicRequest is POST /v1/topics.
type CreateTopicRequest struct {
	Category   string `json:"category"`
	Name       string `json:"name"`
	MaxAgeDays uint32 `json:"max_age_days,omitempty"`
	History    string `json:"history,omitempty"` // from-join, current-epoch (default) or all
}

// Topic describes a topic this node belongs to (GET /v1/topics).
type Topic struct {
	ID         string    `json:"id"`
	Category   string    `json:"category"`
	Name       string    `json:"name"`
	PubSub     string    `json:"pubsub"`
	Owner      string    `json:"owner"`
	Role       string    `json:"role"`
	Epoch      uint64    `json:"epoch"`
	Members    int       `json:"members"`
	Peers      int       `json:"peers"`
	LogLength  uint64    `json:"log_length"`
	MaxAgeDays uint32    `json:"max_age_days,omitempty"`
	Joined     time.Time `json:"joined"`
	History    string    `json:"history"` // what a new member reads: from-join, current-epoch or all
}

// Member is one entry of GET /v1/topics/{topic}/members.
type Member struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Country   string   `json:"country"`
	Role      string   `json:"role"`
	Since     uint64   `json:"since"`
	Peers     []string `json:"peers"`
	Connected bool     `json:"connected"`
	Self      bool     `json:"self,omitempty"`
}

// InviteRequest is POST /v1/topics/{topic}/invite.
type InviteRequest struct {
	Card    string `json:"card"`              // armored member card of the invitee
	Expires string `json:"expires,omitempty"` // Go duration, default 72h
	Role    string `json:"role,omitempty"`    // member (default) or admin
	History string `json:"history,omitempty"` // overrides the topic's history policy for this invitee
}

// InviteResponse carries the token to hand to the invitee.
type InviteResponse struct {
	Token   string    `json:"token"`
	Nonce   string    `json:"nonce"`
	Invitee string    `json:"invitee"`
	Expires time.Time `json:"expires"`
	History string    `json:"history,omitempty"` // the override, if any
}

// PolicyRequest is POST /v1/topics/{topic}/policy.
type PolicyRequest struct {
	History string `json:"history"` // from-join, current-epoch or all
}

// JoinRequest is POST /v1/join.
type JoinRequest struct {
	Token string `json:"token"`
}

// PublishRequest is POST /v1/publish.
type PublishRequest struct {
	Topic string                 `json:"topic"`
	Draft protocol.BulletinDraft `json:"draft"`
}

// PublishResponse names what was published: by POST /v1/publish, and by
// revise and revoke, which answer with the bulletin's new state.
type PublishResponse struct {
	ID       string `json:"id"`
	Envelope string `json:"envelope"`
	Topic    string `json:"topic"`
	Seq      uint64 `json:"seq"`
	Version  int    `json:"version,omitempty"`
	Revoked  bool   `json:"revoked,omitempty"`
}

// ReviseRequest is POST /v1/bulletins/{id}/revise: the whole new version.
type ReviseRequest struct {
	Draft protocol.BulletinDraft `json:"draft"`
}

// RevokeRequest is POST /v1/bulletins/{id}/revoke.
type RevokeRequest struct {
	Reason string `json:"reason"`
}

// Revision is one entry of a bulletin's history: a version, or its
// revocation.
type Revision struct {
	Version  int       `json:"version,omitempty"` // absent for a revocation
	Kind     string    `json:"kind"`              // bulletin, revision or revocation
	Envelope string    `json:"envelope"`
	Seq      uint64    `json:"seq"`
	Modified time.Time `json:"modified"` // the version's modified time, or when it was revoked
	Reason   string    `json:"reason,omitempty"`
}

// Bulletin is a bulletin as listed and shown: its latest version and its
// history. A member outside a restricted audience gets a sealed entry: it
// knows the bulletin exists (its envelope, author, audience), not its
// content; its ID is then the envelope ID. A revoked or expired bulletin
// is a tombstone: its content is erased, the rest is kept.
type Bulletin struct {
	ID               string     `json:"id"`
	Topic            string     `json:"topic"`
	TopicName        string     `json:"topic_name"`
	Category         string     `json:"category"`
	Author           string     `json:"author"`
	Envelope         string     `json:"envelope"`
	Seq              uint64     `json:"seq"`
	Version          int        `json:"version,omitempty"`
	Created          time.Time  `json:"created"`
	Received         time.Time  `json:"received"`
	Audience         []string   `json:"audience,omitempty"`
	Sealed           bool       `json:"sealed"`
	Revoked          bool       `json:"revoked"`
	RevocationReason string     `json:"revocation_reason,omitempty"`
	RevokedAt        *time.Time `json:"revoked_at,omitempty"`
	Expired          bool       `json:"expired,omitempty"` // erased on this node by retention
	ExpiredAt        *time.Time `json:"expired_at,omitempty"`
	History          []Revision `json:"history,omitempty"`
	// Content is what the decrypted bulletin holds beyond the fields
	// above: nil when this node may not read it (Sealed) or its content is
	// erased (Tombstone). Its fields are the Bulletin's in JSON.
	*Content
}

// Content is a readable bulletin's own fields (protocol.Bulletin less
// those Bulletin carries for every bulletin: ID, version, created,
// category and audience).
type Content struct {
	Modified   time.Time           `json:"modified"`
	Originator protocol.Originator `json:"originator"`
	Title      string              `json:"title"`
	Summary    string              `json:"summary,omitempty"`
	Body       string              `json:"body,omitempty"` // Markdown
	// BodySize is the size of the body a view leaves out (list, watch,
	// search): show gives it.
	BodySize          int                   `json:"body_size,omitempty"`
	Language          string                `json:"language"`
	TLP               string                `json:"tlp"`
	Handling          protocol.Handling     `json:"handling"`
	SourceReliability string                `json:"source_reliability"`
	InfoReliability   string                `json:"info_reliability"`
	ValidUntil        *time.Time            `json:"valid_until,omitempty"`
	References        protocol.References   `json:"references,omitzero"`
	Entities          []protocol.Entity     `json:"entities,omitempty"`
	Attachments       []protocol.Attachment `json:"attachments,omitempty"`
	Request           *protocol.Request     `json:"request,omitempty"` // a request for information
}

// ContentOf is b's Content.
func ContentOf(b *protocol.Bulletin) *Content {
	d := b.BulletinDraft
	return &Content{
		Modified: b.Modified, Originator: b.Originator, Title: d.Title, Summary: d.Summary, Body: d.Body,
		Language: d.Language, TLP: d.TLP, Handling: d.Handling, SourceReliability: d.SourceReliability,
		InfoReliability: d.InfoReliability, ValidUntil: d.ValidUntil, References: d.References,
		Entities: d.Entities, Attachments: d.Attachments, Request: d.Request,
	}
}

// Protocol is the bulletin as package protocol holds it; nil unless it
// is readable (Content set).
func (b *Bulletin) Protocol() *protocol.Bulletin {
	c := b.Content
	if c == nil {
		return nil
	}
	return &protocol.Bulletin{
		ID: b.ID, Version: b.Version, Created: b.Created, Modified: c.Modified, Originator: c.Originator,
		BulletinDraft: protocol.BulletinDraft{
			Category: b.Category, Title: c.Title, Summary: c.Summary, Body: c.Body, Language: c.Language,
			TLP: c.TLP, Handling: c.Handling, SourceReliability: c.SourceReliability,
			InfoReliability: c.InfoReliability, ValidUntil: c.ValidUntil, References: c.References,
			Entities: c.Entities, Attachments: c.Attachments, Audience: b.Audience, Request: c.Request,
		},
	}
}

// Tombstone reports whether the bulletin's content is erased.
func (b *Bulletin) Tombstone() bool { return b.Revoked || b.Expired }

// RemoveRequest is POST /v1/topics/{topic}/remove.
type RemoveRequest struct {
	Member string `json:"member"`
	Reason string `json:"reason,omitempty"`
}

// RoleRequest is POST /v1/topics/{topic}/role.
type RoleRequest struct {
	Member string `json:"member"`
	Role   string `json:"role"`
}

// UninviteRequest is POST /v1/topics/{topic}/uninvite.
type UninviteRequest struct {
	Nonce string `json:"nonce"`
}

// LeaveRequest is POST /v1/topics/{topic}/leave.
type LeaveRequest struct {
	Reason string `json:"reason,omitempty"`
}

// LogChange answers the membership commands: the topic after the change.
type LogChange struct {
	Topic  Topic  `json:"topic"`
	Member string `json:"member,omitempty"`
}
