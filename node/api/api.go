package api

import "time"

// Status is GET /v1/status.
type Status struct {
	MemberID  string    `json:"member_id"`
	PeerID    string    `json:"peer_id"`
	Name      string    `json:"name"`
	Country   string    `json:"country"`
	Addrs     []string  `json:"addrs"`
	Version   string    `json:"version"`
	Started   time.Time `json:"started"`
	Uptime    string    `json:"uptime"`
	Peers     int       `json:"peers"`
	Topics    int       `json:"topics"`
	Bulletins int       `json:"bulletins"`
	// Equivocations lists authors caught signing two different envelopes
	// with the same sequence number: evidence of a malicious or cloned node.
	Equivocations []Equivocation `json:"equivocations"`
	// Sync is, per topic, what this node holds and how its sync went.
	Sync []TopicSync `json:"sync"`
	// Disk is the space of the store's filesystem; absent when unreadable.
	Disk *DiskStatus `json:"disk,omitempty"`
}

// DiskStatus is the free space of the filesystem holding the store.
type DiskStatus struct {
	Path         string `json:"path"`
	FreeBytes    uint64 `json:"free_bytes"`
	StoreBytes   uint64 `json:"store_bytes"`
	ReserveBytes uint64 `json:"reserve_bytes"` // below: writes are refused
	WarnBytes    uint64 `json:"warn_bytes"`    // below: the node warns
	Low          bool   `json:"low"`           // free below warn_bytes
	Full         bool   `json:"full"`          // free below reserve_bytes
}

// TopicSync is the sync state of one topic.
type TopicSync struct {
	Topic string `json:"topic"`
	Name  string `json:"name"`
	// VersionVector maps each author to the highest seq up to which this
	// node holds every envelope; two nodes hold the same envelopes when
	// their vectors are equal.
	VersionVector map[string]uint64 `json:"version_vector"`
	// Gaps maps an author to the highest seq held when it is above the
	// version vector's: envelopes in between are missing.
	Gaps     map[string]uint64 `json:"gaps,omitempty"`
	LastSync []PeerSync        `json:"last_sync,omitempty"`
	// OverBudget maps an author to how many of its envelopes this node
	// refused since it started for exceeding the author's budget
	// ([limits] in the config).
	OverBudget map[string]uint64 `json:"over_budget,omitempty"`
}

// PeerSync is the last sync of a topic with one peer.
type PeerSync struct {
	Peer    string    `json:"peer"`
	Member  string    `json:"member,omitempty"`
	At      time.Time `json:"at"`
	Fetched int       `json:"fetched"`
	Error   string    `json:"error,omitempty"`
}

// Equivocation is evidence kept about one equivocating author.
type Equivocation struct {
	Topic    string `json:"topic"`
	Author   string `json:"author"`
	Seq      uint64 `json:"seq"`
	Envelope string `json:"envelope"`
}

// Identity is GET /v1/id: who this node is, and its signed card.
type Identity struct {
	MemberID  string   `json:"member_id"`
	PeerID    string   `json:"peer_id"`
	Recipient string   `json:"recipient"`
	Name      string   `json:"name"`
	Country   string   `json:"country"`
	Addrs     []string `json:"addrs"`
	Card      string   `json:"card"`
}

// Peer is one entry of GET /v1/peers.
type Peer struct {
	PeerID    string   `json:"peer_id"`
	Addrs     []string `json:"addrs"`
	Direction string   `json:"direction"`
	Member    string   `json:"member,omitempty"`
	Latency   string   `json:"latency,omitempty"`
}

// ConnectRequest is POST /v1/connect.
type ConnectRequest struct {
	Addr string `json:"addr"`
}

// ConnectResponse answers POST /v1/connect.
type ConnectResponse struct {
	PeerID string `json:"peer_id"`
}
