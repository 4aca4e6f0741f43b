package protocol

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
)

// sampleRequest is a request by member 1 to members 3 and 2, as a draft.
func sampleRequest() *BulletinDraft {
	d := sampleBulletin().Draft()
	d.Audience, d.Attachments = nil, nil
	d.Request = &Request{Due: time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC), Priority: PriorityUrgent,
		To: []string{memberID(3), memberID(2)}}
	return d
}

func requestStamp() Stamp {
	b := sampleBulletin()
	return Stamp{ID: b.ID, Version: 1, Created: b.Created, Modified: b.Created, Originator: b.Originator, Category: b.Category}
}

func TestRequestBuildAndRoundTrip(t *testing.T) {
	b, err := sampleRequest().Build(requestStamp())
	if err != nil {
		t.Fatal(err)
	}
	if want := sorted(memberID(1), memberID(2), memberID(3)); !slices.Equal(b.Audience, want) {
		t.Fatalf("audience %v, want the addressees and the requester %v", b.Audience, want)
	}
	if !slices.IsSorted(b.Request.To) {
		t.Fatalf("addressees not sorted: %v", b.Request.To)
	}
	data, err := EncodeBulletin(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBulletin(data)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Request.Due.Equal(b.Request.Due) || got.Request.Priority != PriorityUrgent || !slices.Equal(got.Request.To, b.Request.To) {
		t.Fatalf("round trip changed the request: %+v", got.Request)
	}
	md, err := ParseMarkdown(RenderMarkdown(b), "")
	if err != nil {
		t.Fatal(err)
	}
	if md.Request == nil || !md.Request.Due.Equal(b.Request.Due) || !slices.Equal(md.Request.To, b.Request.To) {
		t.Fatalf("Markdown round trip lost the request: %+v", md.Request)
	}
}

func TestRequestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(b *Bulletin)
		field string
	}{
		{"due before created", func(b *Bulletin) { b.Request.Due = b.Created.Add(-time.Minute) }, "request.due"},
		{"no due", func(b *Bulletin) { b.Request.Due = time.Time{} }, "request.due"},
		{"priority", func(b *Bulletin) { b.Request.Priority = "whenever" }, "request.priority"},
		{"nobody", func(b *Bulletin) { b.Request.To = nil }, "request.to"},
		{"too many", func(b *Bulletin) {
			b.Request.To = nil
			for i := range MaxAddressees + 1 {
				b.Request.To = append(b.Request.To, memberID(byte(10+i)))
			}
			slices.Sort(b.Request.To)
		}, "request.to"},
		{"twice", func(b *Bulletin) { b.Request.To = []string{memberID(2), memberID(2)} }, "request.to[1]"},
		{"not a member ID", func(b *Bulletin) { b.Request.To = []string{"bra"} }, "request.to[0]"},
		{"unsorted", func(b *Bulletin) { b.Request.To = []string{b.Request.To[1], b.Request.To[0]} }, "request.to"},
		{"requester addressed", func(b *Bulletin) {
			b.Request.To = sorted(memberID(1), memberID(2))
			b.Audience = sorted(memberID(1), memberID(2))
		}, "request.to"},
		{"audience wider", func(b *Bulletin) { b.Audience = sorted(memberID(1), memberID(2), memberID(3), memberID(4)) }, "audience"},
		{"audience narrower", func(b *Bulletin) { b.Audience = sorted(memberID(1), memberID(2)) }, "audience"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := sampleRequest().Build(requestStamp())
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(b)
			err = b.Validate()
			fe, ok := err.(*FieldError)
			if !ok || fe.Field != tc.field {
				t.Fatalf("Validate = %v, want an error on field %q", err, tc.field)
			}
		})
	}
}

func TestReceiptPayload(t *testing.T) {
	req := NewBulletinID(TopicID{1}, memberID(1))
	ok := []Receipt{
		{Request: req, State: ReceiptDelivered, At: t0},
		{Request: req, State: ReceiptAcknowledged, At: t0},
		{Request: req, State: ReceiptDeclined, Reason: "not our jurisdiction", At: t0},
	}
	for _, r := range ok {
		data, err := EncodeReceipt(r)
		if err != nil {
			t.Fatalf("%s: %v", r.State, err)
		}
		got, err := DecodeReceipt(data)
		if err != nil || *got != r {
			t.Fatalf("DecodeReceipt = %+v, %v", got, err)
		}
	}
	bad := map[string]Receipt{
		`"state"`:   {Request: req, State: "answered", At: t0},
		`"reason"`:  {Request: req, State: ReceiptDeclined, At: t0},
		`reason"`:   {Request: req, State: ReceiptDelivered, Reason: "x", At: t0},
		`"request"`: {Request: "x", State: ReceiptDelivered, At: t0},
		`"at"`:      {Request: req, State: ReceiptDelivered},
		"at most":   {Request: req, State: ReceiptDeclined, Reason: strings.Repeat("x", MaxDeclineReasonLen+1), At: t0},
	}
	for want, r := range bad {
		if _, err := EncodeReceipt(r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("EncodeReceipt(%+v) = %v, want an error naming %s", r, err, want)
		}
		data, _ := canon.Marshal(r)
		if _, err := DecodeReceipt(data); err == nil {
			t.Errorf("DecodeReceipt accepted %+v", r)
		}
	}
}

// receiptEnvelope seals a receipt by from, to the members of audience.
func (f *envFixture) receiptEnvelope(t *testing.T, from testMember, audience []string, payload []byte, to ...testMember) *Envelope {
	t.Helper()
	inner, err := SealInner(from.id, InnerBody{Topic: f.tt.s.ID[:], Epoch: 1, Author: from.ID(), Seq: 1, Kind: KindReceipt, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	var recipients []age.Recipient
	for _, m := range append(to, from) {
		recipients = append(recipients, m.card.Recipient())
	}
	ct, err := crypto.Encrypt(inner, recipients...)
	if err != nil {
		t.Fatal(err)
	}
	env, err := SealEnvelope(from.id, EnvelopeBody{Kind: KindReceipt, Topic: f.tt.s.ID[:], Epoch: 1, Author: from.ID(),
		Node: from.id.PeerID().String(), Seq: 1, TS: t0, Audience: audience, Ciphertext: ct})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestReceiptEnvelope(t *testing.T) {
	f := newEnvFixture(t)
	s := f.tt.s
	req := NewBulletinID(s.ID, f.fra.ID())
	payload, err := EncodeReceipt(Receipt{Request: req, State: ReceiptDeclined, Reason: "no data", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	env := f.receiptEnvelope(t, f.nga, []string{f.fra.ID()}, payload, f.fra)
	if err := s.CheckEnvelope(env, 0); err != nil {
		t.Fatal(err)
	}
	o, err := Open(s, Reader{ID: f.fra.id, Keys: f.tt.keys}, env, t0)
	if err != nil || o.Receipt == nil || o.Receipt.Reason != "no data" {
		t.Fatalf("the requester opens %+v, %v", o, err)
	}
	// Another addressee holds the epoch key, but the receipt is not sealed to it.
	if o, err := Open(s, Reader{ID: f.bra.id, Keys: f.tt.keys}, env, t0); err != nil || !o.Sealed {
		t.Fatalf("another addressee opens %+v, %v; want sealed", o, err)
	}
	// A receipt about a request that is not its recipient's.
	other, _ := EncodeReceipt(Receipt{Request: NewBulletinID(s.ID, f.bra.ID()), State: ReceiptDelivered, At: t0})
	_, err = Open(s, Reader{ID: f.fra.id, Keys: f.tt.keys}, f.receiptEnvelope(t, f.nga, []string{f.fra.ID()}, other, f.fra), t0)
	wantReason(t, err, ReasonBadReceipt)
	// Dated ahead of the reader's clock.
	late, _ := EncodeReceipt(Receipt{Request: req, State: ReceiptDelivered, At: t0.Add(time.Hour)})
	_, err = Open(s, Reader{ID: f.fra.id, Keys: f.tt.keys}, f.receiptEnvelope(t, f.nga, []string{f.fra.ID()}, late, f.fra), t0)
	wantReason(t, err, ReasonBadTime)
}

func TestReceiptEnvelopeAudience(t *testing.T) {
	f := newEnvFixture(t)
	for name, aud := range map[string][]string{
		"none":   nil,
		"two":    sorted(f.fra.ID(), f.bra.ID()),
		"author": {f.nga.ID()},
	} {
		body := EnvelopeBody{Kind: KindReceipt, Topic: f.tt.s.ID[:], Epoch: 1, Author: f.nga.ID(),
			Node: f.nga.id.PeerID().String(), Seq: 1, TS: t0, Audience: aud, Ciphertext: []byte{1}}
		body.V = ProtocolVersion
		raw, _, err := crypto.Seal(f.nga.id.Signing, crypto.DomainEnvelope, body)
		if err != nil {
			t.Fatal(err)
		}
		_, err = DecodeEnvelope(raw)
		wantReason(t, err, ReasonMalformed)
		if !strings.Contains(err.Error(), "audience") {
			t.Errorf("%s: %v does not name the audience", name, err)
		}
	}
}

func FuzzDecodeReceipt(f *testing.F) {
	req := NewBulletinID(TopicID{1}, memberID(1))
	for _, r := range []Receipt{
		{Request: req, State: ReceiptDelivered, At: t0},
		{Request: req, State: ReceiptDeclined, Reason: "no", At: t0},
	} {
		data, err := EncodeReceipt(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)-1])
	}
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeReceipt(data)
		if err != nil {
			return
		}
		again, err := EncodeReceipt(*r)
		if err != nil {
			t.Fatalf("accepted receipt does not re-encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted bytes re-encode differently:\n%x\n%x", data, again)
		}
	})
}

func FuzzParseMarkdownRequest(f *testing.F) {
	f.Add([]byte("---\ntitle: t\nrequest:\n  due: 2026-12-01\n  priority: urgent\n  to: [a, b]\n---\n"))
	f.Add([]byte("---\nrequest: {due: 2026-12-01T10:00:00Z, to: []}\n---\n"))
	f.Add([]byte("---\nrequest: x\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseMarkdown(data, "")
		if err != nil || d.Request == nil {
			return
		}
		if d.Request.To == nil && d.Request.Priority == "" && d.Request.Due.IsZero() {
			return
		}
		_ = d.Validate() // must not panic
	})
}
