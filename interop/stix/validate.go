package stix

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFS holds the official OASIS STIX 2.1 JSON schemas
// (oasis-open/cti-stix2-json-schemas, schemas/, with its LICENSE) and the
// Concord extension's schema (schemas/concord, also docs/stix-extension.json).
//
//go:embed schemas
var schemaFS embed.FS

// oasisBase is the $id prefix of the official schemas: their relative
// $refs resolve against it, so each file is registered under base + path.
const oasisBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// maxDepth bounds JSON nesting: STIX objects are shallow, and a deeply
// nested document costs the decoder and validator stack and time.
const maxDepth = 64

type schemaSet struct {
	bundle        *jsonschema.Schema
	byType        map[string]*jsonschema.Schema
	core, scoCore *jsonschema.Schema
	extension     *jsonschema.Schema // the Concord extension's value
	propExtension *jsonschema.Schema // the same, when a property extension
	entity        *jsonschema.Schema // a whole concord-entity object
}

var loadSchemas = sync.OnceValues(func() (*schemaSet, error) {
	c := jsonschema.NewCompiler()
	files, err := fs.Glob(schemaFS, "schemas/*/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		data, _ := schemaFS.ReadFile(f)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("stix: embedded schema %s: %w", f, err)
		}
		url := oasisBase + strings.TrimPrefix(f, "schemas/")
		if strings.HasPrefix(f, "schemas/concord/") {
			url = ExtensionSchemaURL
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("stix: embedded schema %s: %w", f, err)
		}
	}
	s := &schemaSet{byType: map[string]*jsonschema.Schema{}}
	compile := func(url string) *jsonschema.Schema {
		sch, cerr := c.Compile(url)
		if cerr != nil && err == nil {
			err = fmt.Errorf("stix: compiling embedded schema %s: %w", url, cerr)
		}
		return sch
	}
	for _, f := range files {
		dir, name := path.Split(strings.TrimPrefix(f, "schemas/"))
		if dir == "sdos/" || dir == "sros/" || dir == "observables/" {
			s.byType[strings.TrimSuffix(name, ".json")] = compile(oasisBase + dir + name)
		}
	}
	for _, t := range []string{"marking-definition", "language-content", "extension-definition"} {
		s.byType[t] = compile(oasisBase + "common/" + t + ".json")
	}
	s.bundle = compile(oasisBase + "common/bundle.json")
	s.core = compile(oasisBase + "common/core.json")
	s.scoCore = compile(oasisBase + "common/cyber-observable-core.json")
	s.extension = compile(ExtensionSchemaURL)
	s.propExtension = compile(ExtensionSchemaURL + "#/$defs/property-extension")
	s.entity = compile(ExtensionSchemaURL + "#/$defs/concord-entity")
	return s, err
})

// Validate checks that data is a STIX 2.1 bundle valid against the
// official OASIS schemas: the bundle's own properties against bundle.json,
// then each object against its type's schema (bundle.json itself wrongly
// rejects valid note and location objects). An object of a type the
// specification does not define must be a custom object (x- type) or
// declare itself through an extension-definition (new-sdo, new-sco,
// new-sro); Concord's own objects and extension are checked against
// docs/stix-extension.json. Errors name the object and the property.
func Validate(data []byte) error {
	_, _, err := parseBundle(data)
	return err
}

// parseBundle validates data as Validate does and returns the bundle's
// ID and objects.
func parseBundle(data []byte) (string, []map[string]any, error) {
	if err := checkDepth(data); err != nil {
		return "", nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return "", nil, fmt.Errorf("stix: not JSON: %v", err)
	}
	bundle, ok := doc.(map[string]any)
	if !ok || bundle["type"] != "bundle" {
		return "", nil, errors.New(`stix: not a STIX 2.1 bundle: want a JSON object with "type": "bundle"`)
	}
	s, err := loadSchemas()
	if err != nil {
		return "", nil, err
	}
	wrapper := map[string]any{}
	for k, v := range bundle {
		if k != "objects" {
			wrapper[k] = v
		}
	}
	if err := s.bundle.Validate(wrapper); err != nil {
		return "", nil, fmt.Errorf("stix: the bundle: %s", schemaProblem(err))
	}
	list, ok := bundle["objects"].([]any)
	if !ok || len(list) == 0 {
		return "", nil, errors.New(`stix: the bundle: property "objects": want a list of at least one STIX object`)
	}
	objects := make([]map[string]any, len(list))
	for i, o := range list {
		obj, err := s.validateObject(i, o)
		if err != nil {
			return "", nil, err
		}
		objects[i] = obj
	}
	id, _ := bundle["id"].(string)
	return id, objects, nil
}

func (s *schemaSet) validateObject(i int, o any) (map[string]any, error) {
	obj, ok := o.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("stix: objects[%d]: not a JSON object", i)
	}
	typ, _ := obj["type"].(string)
	id, _ := obj["id"].(string)
	name := fmt.Sprintf("objects[%d] (%s)", i, id)
	if id == "" {
		name = fmt.Sprintf("objects[%d] (type %q)", i, typ)
	}
	if typ == "" {
		return nil, fmt.Errorf("stix: %s: property \"type\": missing or not a string", name)
	}
	sch, err := s.schemaFor(obj, typ)
	if err != nil {
		return nil, fmt.Errorf("stix: %s: %v", name, err)
	}
	if err := sch.Validate(obj); err != nil {
		return nil, fmt.Errorf("stix: %s: %s", name, schemaProblem(err))
	}
	if ext, ok := extensionOf(obj); ok {
		sch := s.extension
		if ext["extension_type"] == "property-extension" {
			sch = s.propExtension // names the property that fails, not the oneOf
		}
		if err := sch.Validate(ext); err != nil {
			return nil, fmt.Errorf("stix: %s: extension %s: %s", name, ExtensionID, schemaProblem(err))
		}
	}
	return obj, nil
}

// schemaFor picks the schema an object of type typ must satisfy.
func (s *schemaSet) schemaFor(obj map[string]any, typ string) (*jsonschema.Schema, error) {
	if sch, ok := s.byType[typ]; ok {
		return sch, nil
	}
	if typ == EntityType {
		return s.entity, nil
	}
	switch newObjectKind(obj) {
	case "new-sco":
		return s.scoCore, nil
	case "new-sdo", "new-sro":
		return s.core, nil
	}
	if strings.HasPrefix(typ, "x-") {
		// A custom object of STIX 2.1 §11.1 (deprecated but valid):
		// SDO-like if it has created, else SCO-like.
		if _, ok := obj["created"]; ok {
			return s.core, nil
		}
		return s.scoCore, nil
	}
	return nil, fmt.Errorf("property \"type\": %q is not a STIX 2.1 object type, nor a custom object (x-…) nor one an extension-definition declares (new-sdo, new-sco, new-sro)", typ)
}

// newObjectKind returns the extension_type "new-…" an object declares in
// its extensions, if any.
func newObjectKind(obj map[string]any) string {
	exts, _ := obj["extensions"].(map[string]any)
	for k, v := range exts {
		e, _ := v.(map[string]any)
		if t, _ := e["extension_type"].(string); strings.HasPrefix(k, "extension-definition--") && strings.HasPrefix(t, "new-") {
			return t
		}
	}
	return ""
}

// extensionOf returns the value of the Concord extension on obj.
func extensionOf(obj map[string]any) (map[string]any, bool) {
	exts, _ := obj["extensions"].(map[string]any)
	e, ok := exts[ExtensionID].(map[string]any)
	return e, ok
}

// schemaProblem reduces a validation error to its most specific cause:
// the deepest property that failed, and why.
func schemaProblem(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	leaf := deepest(ve)
	loc := "/" + strings.Join(leaf.InstanceLocation, "/")
	msg := leaf.Error()
	if _, after, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "at ") {
		msg = after
	}
	if len(leaf.InstanceLocation) == 0 {
		return "schema violation: " + msg
	}
	return fmt.Sprintf("property %q: %s", loc, msg)
}

func deepest(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return e
	}
	var best *jsonschema.ValidationError
	for _, c := range e.Causes {
		if d := deepest(c); best == nil || len(d.InstanceLocation) > len(best.InstanceLocation) {
			best = d
		}
	}
	return best
}

// checkDepth refuses JSON nested more than maxDepth arrays and objects,
// before any decoding.
func checkDepth(data []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > maxDepth {
				return fmt.Errorf("stix: JSON nested more than %d levels deep: not a STIX bundle", maxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}
