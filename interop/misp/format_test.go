package misp

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/concordnet/concord/internal/golden"
	"github.com/concordnet/concord/protocol"
)

// misp holds the vendored MISP definitions (testdata/vendor) and the
// shipped Concord taxonomy.
type mispDefs struct {
	types      map[string]bool
	categories map[string][]string // category → types it allows
	templates  map[string]objectDef
	taxonomies map[string]map[string][]string // namespace → predicate → values (nil: no values)
}

type objectDef struct {
	Name          string   `json:"name"`
	UUID          string   `json:"uuid"`
	Version       int      `json:"version"`
	MetaCategory  string   `json:"meta-category"`
	Description   string   `json:"description"`
	Required      []string `json:"required"`
	RequiredOneOf []string `json:"requiredOneOf"`
	Attributes    map[string]struct {
		MispAttribute string `json:"misp-attribute"`
	} `json:"attributes"`
}

type taxonomyFile struct {
	Namespace  string `json:"namespace"`
	Predicates []struct {
		Value string `json:"value"`
	} `json:"predicates"`
	Values []struct {
		Predicate string `json:"predicate"`
		Entry     []struct {
			Value string `json:"value"`
		} `json:"entry"`
	} `json:"values"`
}

const shippedTaxonomy = "../../configs/misp-taxonomy-concord/machinetag.json"

func loadDefs(t testing.TB) *mispDefs {
	var dt struct {
		Result struct {
			Types                []string            `json:"types"`
			Categories           []string            `json:"categories"`
			CategoryTypeMappings map[string][]string `json:"category_type_mappings"`
		} `json:"result"`
	}
	golden.Read(t, "testdata/vendor/pymisp/describeTypes.json", &dt)
	d := &mispDefs{types: map[string]bool{}, categories: dt.Result.CategoryTypeMappings,
		templates: map[string]objectDef{}, taxonomies: map[string]map[string][]string{}}
	for _, ty := range dt.Result.Types {
		d.types[ty] = true
	}
	files, _ := filepath.Glob("testdata/vendor/misp-objects/*.json")
	for _, f := range files {
		var o objectDef
		golden.Read(t, f, &o)
		d.templates[o.Name] = o
	}
	for _, f := range []string{"testdata/vendor/misp-taxonomies/tlp.json",
		"testdata/vendor/misp-taxonomies/admiralty-scale.json", shippedTaxonomy} {
		var tx taxonomyFile
		golden.Read(t, f, &tx)
		preds := map[string][]string{}
		for _, p := range tx.Predicates {
			preds[p.Value] = nil
		}
		for _, v := range tx.Values {
			for _, e := range v.Entry {
				preds[v.Predicate] = append(preds[v.Predicate], e.Value)
			}
		}
		d.taxonomies[tx.Namespace] = preds
	}
	return d
}

var (
	uuidRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	digitsRE = regexp.MustCompile(`^[0-9]+$`)
	dateRE   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	tagRE    = regexp.MustCompile(`^([a-z0-9-]+):([a-z0-9+-]+)(="([^"]+)")?$`)
)

// checker collects core-format violations of one event with their path.
type checker struct {
	defs  *mispDefs
	errs  []string
	uuids map[string]string
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

// str checks that m[key] is a string matching re (nil: any non-empty).
func (c *checker) str(m map[string]any, path, key string, re *regexp.Regexp) string {
	s, ok := m[key].(string)
	switch {
	case !ok:
		c.fail(path+"."+key, "missing or not a string: %#v", m[key])
	case re != nil && !re.MatchString(s):
		c.fail(path+"."+key, "%q does not match %s", s, re)
	case re == nil && s == "":
		c.fail(path+"."+key, "empty")
	}
	return s
}

func (c *checker) boolean(m map[string]any, path, key string) {
	if _, ok := m[key].(bool); !ok {
		c.fail(path+"."+key, "missing or not a boolean: %#v", m[key])
	}
}

func (c *checker) enum(m map[string]any, path, key string, values ...string) {
	if s := c.str(m, path, key, nil); !slices.Contains(values, s) {
		c.fail(path+"."+key, "%q is not one of %v", s, values)
	}
}

func (c *checker) uuid(m map[string]any, path string) {
	u := c.str(m, path, "uuid", uuidRE)
	if prev, dup := c.uuids[u]; dup {
		c.fail(path+".uuid", "%s already used by %s", u, prev)
	}
	c.uuids[u] = path
}

func list(m map[string]any, key string) []map[string]any {
	raw, _ := m[key].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		o, _ := r.(map[string]any)
		out = append(out, o)
	}
	return out
}

// checkEvent applies MISP's core-format rules to one marshalled event.
func checkEvent(defs *mispDefs, data []byte) []string {
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return []string{err.Error()}
	}
	ev, ok := top["Event"].(map[string]any)
	if !ok || len(top) != 1 {
		return []string{`not {"Event": {...}}`}
	}
	c := &checker{defs: defs, uuids: map[string]string{}}
	c.uuid(ev, "Event")
	c.str(ev, "Event", "info", nil)
	c.str(ev, "Event", "date", dateRE)
	c.str(ev, "Event", "timestamp", digitsRE)
	c.str(ev, "Event", "publish_timestamp", digitsRE)
	c.boolean(ev, "Event", "published")
	c.enum(ev, "Event", "analysis", "0", "1", "2")
	c.enum(ev, "Event", "threat_level_id", "1", "2", "3", "4")
	c.enum(ev, "Event", "distribution", "0", "1", "2", "3", "4", "5")
	if org, ok := ev["Orgc"].(map[string]any); ok {
		c.str(org, "Event.Orgc", "name", nil)
		c.str(org, "Event.Orgc", "uuid", uuidRE)
	} else {
		c.fail("Event.Orgc", "missing")
	}
	for i, tag := range list(ev, "Tag") {
		c.tag(fmt.Sprintf("Event.Tag[%d]", i), c.str(tag, "Event.Tag", "name", nil))
	}
	for i, a := range list(ev, "Attribute") {
		c.attribute(fmt.Sprintf("Event.Attribute[%d]", i), a)
	}
	for i, o := range list(ev, "Object") {
		c.object(fmt.Sprintf("Event.Object[%d]", i), o)
	}
	for i, r := range list(ev, "EventReport") {
		path := fmt.Sprintf("Event.EventReport[%d]", i)
		c.uuid(r, path)
		c.str(r, path, "name", nil)
		if _, ok := r["content"].(string); !ok {
			c.fail(path+".content", "not a string")
		}
		c.str(r, path, "timestamp", digitsRE)
		c.boolean(r, path, "deleted")
	}
	return c.errs
}

// tag checks namespace:predicate="value" against the known taxonomies.
func (c *checker) tag(path, name string) {
	m := tagRE.FindStringSubmatch(name)
	if m == nil {
		c.fail(path, "%q is not a machine tag namespace:predicate[=\"value\"]", name)
		return
	}
	preds, ok := c.defs.taxonomies[m[1]]
	if !ok {
		c.fail(path, "%q: unknown taxonomy %s", name, m[1])
		return
	}
	values, ok := preds[m[2]]
	switch {
	case !ok:
		c.fail(path, "%q: taxonomy %s has no predicate %s", name, m[1], m[2])
	case m[3] != "" && !slices.Contains(values, m[4]):
		c.fail(path, "%q: predicate %s has no value %s", name, m[2], m[4])
	case m[3] == "" && len(values) > 0:
		c.fail(path, "%q: predicate %s needs a value", name, m[2])
	}
}

func (c *checker) attribute(path string, a map[string]any) {
	c.uuid(a, path)
	typ := c.str(a, path, "type", nil)
	cat := c.str(a, path, "category", nil)
	if !c.defs.types[typ] {
		c.fail(path+".type", "%q is not a MISP attribute type", typ)
	}
	if allowed, ok := c.defs.categories[cat]; !ok {
		c.fail(path+".category", "%q is not a MISP category", cat)
	} else if !slices.Contains(allowed, typ) {
		c.fail(path+".category", "category %q does not allow type %q", cat, typ)
	}
	if _, ok := a["value"].(string); !ok {
		c.fail(path+".value", "not a string")
	}
	c.boolean(a, path, "to_ids")
	c.boolean(a, path, "deleted")
	c.enum(a, path, "distribution", "0", "1", "2", "3", "4", "5")
	c.str(a, path, "timestamp", digitsRE)
	if _, ok := a["comment"].(string); !ok {
		c.fail(path+".comment", "not a string")
	}
	if typ == "attachment" {
		c.str(a, path, "data", nil)
	}
}

func (c *checker) object(path string, o map[string]any) {
	c.uuid(o, path)
	name := c.str(o, path, "name", nil)
	def, ok := c.defs.templates[name]
	if !ok {
		c.fail(path+".name", "%q is not a vendored misp-objects template", name)
		return
	}
	c.enum(o, path, "template_uuid", def.UUID)
	c.enum(o, path, "template_version", fmt.Sprint(def.Version))
	c.enum(o, path, "meta-category", def.MetaCategory)
	c.enum(o, path, "description", def.Description)
	c.str(o, path, "timestamp", digitsRE)
	c.boolean(o, path, "deleted")
	rels := map[string]bool{}
	for i, a := range list(o, "Attribute") {
		apath := fmt.Sprintf("%s.Attribute[%d]", path, i)
		c.attribute(apath, a)
		rel := c.str(a, apath, "object_relation", nil)
		rels[rel] = true
		if want, ok := def.Attributes[rel]; !ok {
			c.fail(apath+".object_relation", "template %s has no relation %q", name, rel)
		} else if a["type"] != want.MispAttribute {
			c.fail(apath+".type", "template %s wants %s for %s, not %v", name, want.MispAttribute, rel, a["type"])
		}
	}
	for _, r := range def.Required {
		if !rels[r] {
			c.fail(path, "template %s requires relation %s", name, r)
		}
	}
	if len(def.RequiredOneOf) > 0 && !slices.ContainsFunc(def.RequiredOneOf, func(r string) bool { return rels[r] }) {
		c.fail(path, "template %s requires one of %v", name, def.RequiredOneOf)
	}
}

func TestEventsFollowCoreFormat(t *testing.T) {
	defs := loadDefs(t)
	f := newFixture(t)
	items := append(slices.Clone(f.items), f.items[len(f.items)-2]) // v1 again…
	items[len(items)-1].Bulletin = f.v2                             // …as v2
	for _, e := range events(t, items) {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if errs := checkEvent(defs, data); len(errs) > 0 {
			t.Errorf("event %q breaks MISP's core format:\n  %s", e.Info, strings.Join(errs, "\n  "))
		}
	}
}

// TestEventsCoverEveryEntityType checks that each entity type maps to the
// representation documented (object or attribute type).
func TestEventsCoverEveryEntityType(t *testing.T) {
	f := newFixture(t)
	e := events(t, f.items[:1])[0]
	got := map[string]bool{}
	for _, a := range e.Attribute {
		got[a.Type] = true
	}
	for _, o := range e.Object {
		got[o.Name] = true
	}
	for _, want := range []string{"person", "organization", "vehicle", "ais", "ftm-Vessel", "ftm-Airplane",
		"geolocation", "phone-number", "email", "iban", "btc", "passport-number", "identity-card-number",
		"text", "attachment"} {
		if !got[want] {
			t.Errorf("no %s in the exported event", want)
		}
	}
	types := map[string]bool{}
	for _, ent := range f.full.Entities {
		types[ent.Type] = true
	}
	for _, ty := range protocol.EntityTypes() {
		if !types[ty] {
			t.Errorf("fixture lacks entity type %s", ty)
		}
	}
	for _, a := range e.Attribute {
		if a.Type == "text" && a.Category != categoryInternal && !strings.HasPrefix(a.Comment, "concord entity ") {
			t.Errorf("text attribute %q has no comment naming its Concord type: %q", a.Value, a.Comment)
		}
	}
}

func TestShippedTaxonomy(t *testing.T) {
	defs := loadDefs(t)
	tx := defs.taxonomies[TaxonomyNamespace]
	want := map[string][]string{
		"handling": protocol.HandlingCodes(), "source-reliability": protocol.SourceReliabilities(),
		"information-reliability": protocol.InfoReliabilities(), "category": protocol.CategorySlugs(),
	}
	for pred, values := range want {
		if !slices.Equal(tx[pred], values) {
			t.Errorf("taxonomy predicate %s has values %v, want %v", pred, tx[pred], values)
		}
	}
	if v, ok := tx["revoked"]; !ok || v != nil {
		t.Errorf("taxonomy lacks the value-less predicate revoked: %v", v)
	}
	for _, tl := range protocol.TLPLabels() {
		if _, ok := defs.taxonomies["tlp"][strings.ToLower(tl)]; !ok {
			t.Errorf("MISP's tlp taxonomy has no %s", tl)
		}
	}
}

func TestRevokedEvent(t *testing.T) {
	f := newFixture(t)
	e := events(t, f.items[len(f.items)-1:])[0]
	if e.UUID != EventUUID(f.revoked.ID) {
		t.Errorf("revoked event UUID %s, want the bulletin's %s", e.UUID, EventUUID(f.revoked.ID))
	}
	if !slices.Contains(e.Tag, Tag{RevokedTag}) {
		t.Errorf("revoked event tags %v lack %s", e.Tag, RevokedTag)
	}
	if stamp(e.Timestamp) <= f.revoked.Modified.Unix() {
		t.Errorf("revoked event timestamp %s is not after the bulletin's %d", e.Timestamp, f.revoked.Modified.Unix())
	}
	var notice bool
	for _, r := range e.EventReport {
		notice = notice || strings.Contains(r.Content, "sent in error")
	}
	if !notice {
		t.Errorf("no report gives the revocation's reason: %+v", e.EventReport)
	}
}
