package protocol

import (
	"github.com/goccy/go-yaml/ast"
)

// request reads the front matter's request block: {due, priority, to}.
// due is a date (midnight UTC) or an RFC 3339 time; a relative due such
// as 48h is the CLI's (--due), which knows the time it is.
func (f *frontMatter) request(n ast.Node) error {
	r := &Request{}
	err := f.mapping(n, "request", []string{"due", "priority", "to"}, func(key string, v ast.Node) error {
		switch key {
		case "due":
			s, err := f.scalar(v, "request.due")
			if err != nil || s == "" {
				return err
			}
			t, err := parseValidUntil(s)
			if err != nil {
				return f.errAt(v, "request.due %q is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2026-12-31T18:00:00Z)", s)
			}
			r.Due = t
			return nil
		case "priority":
			return f.text(v, "request.priority", &r.Priority)
		}
		return f.textList(v, "request.to", &r.To)
	})
	if err != nil {
		return err
	}
	f.d.Request = r
	return nil
}
