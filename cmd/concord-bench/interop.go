package main

import (
	"context"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/interop/misp"
	"github.com/concordnet/concord/interop/stix"
	"github.com/concordnet/concord/protocol"
)

// benchInterop measures export and import throughput of the STIX and MISP
// libraries on generated bulletins, in bulletins per second, against
// encoding/json marshalling and unmarshalling the same bulletins: the
// cost any JSON exchange would pay, so the ratio is what the formats
// themselves (mapping, deterministic IDs, schema validation) add.
func benchInterop(ctx context.Context, b *bench) error {
	n := b.cfg.interopBulletins
	items := interopItems(n, time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	now := time.Now()
	b.progress("interop: %d generated bulletins", n)

	plain, err := json.Marshal(items)
	if err != nil {
		return err
	}
	baseExport := perSecond(n, func() error { _, err := json.Marshal(items); return err })
	baseImport := perSecond(n, func() error { var out []interop.Item; return json.Unmarshal(plain, &out) })

	var bundle []byte
	stixExport := perSecond(n, func() (err error) { bundle, err = stix.Export(items, now); return err })
	stixImport := perSecond(n, func() error { return countDrafts(stix.Import(bundle)) })
	b.measured("interop-export-stix", stixExport, baseExport)
	b.measured("interop-import-stix", stixImport, baseImport)

	var events []byte
	mispExport := perSecond(n, func() error {
		evs, err := misp.Events(items, now)
		if err == nil {
			events, err = json.Marshal(evs)
		}
		return err
	})
	mispImport := perSecond(n, func() error { return countDrafts(misp.Import(events)) })
	b.measured("interop-export-misp", mispExport, baseExport)
	b.measured("interop-import-misp", mispImport, baseImport)
	b.rep.note("interop: %d bulletins are a %.1f MiB STIX bundle, %.1f MiB of MISP events, %.1f MiB of plain JSON; import includes STIX schema validation",
		n, mib(len(bundle)), mib(len(events)), mib(len(plain)))
	return ctx.Err()
}

// measured records a throughput, or why it could not be measured.
func (b *bench) measured(name string, concord, baseline rate) {
	if concord.err != nil {
		b.rep.skip(name, unitPerS, concord.err.Error())
		b.progress("  %s failed: %v", name, concord.err)
		return
	}
	b.rep.add(name, unitPerS, concord.perS, baseline.perS)
	b.progress("  %s: %.0f bulletins/s (encoding/json: %.0f/s)", name, concord.perS, baseline.perS)
}

type rate struct {
	perS float64
	err  error
}

// interopRounds is how many times each conversion runs: the fastest
// round counts, as the one least disturbed by GC and the machine.
const interopRounds = 3

// perSecond times fn over n bulletins, the fastest of interopRounds.
func perSecond(n int, fn func() error) rate {
	var best time.Duration
	for range interopRounds {
		start := time.Now()
		if err := fn(); err != nil {
			return rate{err: err}
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
	}
	return rate{perS: float64(n) / best.Seconds()}
}

func countDrafts(drafts []interop.Draft, err error) error {
	if err == nil && len(drafts) == 0 {
		return fmt.Errorf("import made no drafts")
	}
	return err
}

func mib(n int) float64 { return float64(n) / (1 << 20) }

// interopItems generates n bulletins as an export reads them: every TLP,
// handling code and grade, one to four entities of varied types, an
// attachment on one in ten, a second version on one in five and a
// revocation on one in fifty.
func interopItems(n int, start time.Time) []interop.Item {
	tlps := []string{"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}
	items := make([]interop.Item, n)
	for i := range items {
		created := start.Add(time.Duration(i) * time.Minute)
		bu := &protocol.Bulletin{
			ID: benchBulletinID(i), Version: 1, Created: created, Modified: created,
			Originator: protocol.Originator{Member: benchMemberID(i % 7), Country: []string{"NGA", "ESP", "FRA"}[i%3], Agency: fmt.Sprintf("Agency %d", i%7)},
		}
		items[i] = interop.Item{Bulletin: bu, Topic: strings.Repeat(fmt.Sprintf("%x", i%16), 64), TopicName: "Bench topic"}
		if i%50 == 49 {
			bu.Version, bu.Modified, bu.Category = 2, created.Add(time.Hour), "drug-trafficking"
			items[i].Revoked, items[i].RevokedAt, items[i].Reason = true, bu.Modified, "superseded"
			continue
		}
		h := protocol.Handling{Code: fmt.Sprintf("H%d", i%4)}
		if h.Code == "H3" {
			h.Restrictions = "Not for use in court"
		}
		bu.BulletinDraft = protocol.BulletinDraft{
			Category: "drug-trafficking", Title: fmt.Sprintf("Shipment %d expected at Lagos port", i),
			Summary:  "A container from Santos is expected to carry cocaine.",
			Body:     fmt.Sprintf("## Details\n\nBulletin %d: the vessel left Santos; crew and contacts below.\n", i),
			Language: "en", TLP: tlps[i%len(tlps)], Handling: h,
			SourceReliability: string("ABCX"[i%4]), InfoReliability: fmt.Sprint(1 + i%4),
			Entities: benchEntities(i),
		}
		if i%10 == 0 {
			bu.Attachments = []protocol.Attachment{protocol.NewAttachment("notes.txt", "", []byte(fmt.Sprintf("field notes of bulletin %d\n", i)))}
		}
		if i%5 == 0 {
			bu.Version, bu.Modified = 2, created.Add(time.Hour)
		}
	}
	return items
}

// benchEntities gives bulletin i one to four entities, cycling through
// the entity types.
func benchEntities(i int) []protocol.Entity {
	all := []protocol.Entity{
		{Type: "vessel", Value: "MSC Aurora", Fields: map[string]string{"imo": "9321483", "flag": "PAN"}},
		{Type: "phone", Value: fmt.Sprintf("+2348012%06d", i)},
		{Type: "email", Value: fmt.Sprintf("broker%d@example.org", i)},
		{Type: "person", Value: "Juan Perez", Fields: map[string]string{"dob": "1980-01-02", "nationality": "ESP"}},
		{Type: "iban", Value: "ES9121000418450200051332"},
		{Type: "crypto-address", Value: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", Fields: map[string]string{"currency": "BTC"}},
		{Type: "organization", Value: "Santos Freight Ltd"},
		{Type: "vehicle", Value: "AB-123-CD", Fields: map[string]string{"make": "Toyota"}},
		{Type: "passport", Value: fmt.Sprintf("X%07d", i), Fields: map[string]string{"country": "ESP"}},
		{Type: "location", Value: "Lagos port, Apapa"},
		{Type: "aircraft", Value: "5N-ABC"},
		{Type: "id-document", Value: fmt.Sprintf("ID%08d", i)},
		{Type: "firearm", Value: "Glock 17", Fields: map[string]string{"serial": "ABC123"}},
		{Type: "other", Value: "shipping container MSCU1234565"},
	}
	out := make([]protocol.Entity, 1+i%4)
	for k := range out {
		out[k] = all[(i+k*3)%len(all)]
	}
	return out
}

// benchBulletinID and benchMemberID make well-formed IDs (lowercase
// unpadded base32 of 16 and 15 bytes) that differ by index.
func benchBulletinID(i int) string { return benchID(16, i) }

func benchMemberID(i int) string { return benchID(15, i+1) }

func benchID(size, i int) string {
	raw := make([]byte, size)
	binary.BigEndian.PutUint64(raw[size-8:], uint64(i))
	raw[0] = 0xbe // not all zero: a real ID is random
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))
}
