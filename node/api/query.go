package api

import (
	"net/url"
	"strconv"
	"time"
)

// DefaultLimit is how many bulletins a list or search without a limit
// returns.
const DefaultLimit = 50

// ListQuery selects bulletins (GET /v1/bulletins). References are given
// as the user gives them; the node resolves them.
type ListQuery struct {
	Topic      string    // topic ID, unique prefix or name
	Category   string    // crime category slug
	Originator string    // member ID, unique prefix or country code
	Since      time.Time // created at or after; zero: any time
	Limit      int       // at most this many; 0: all
}

// Values encodes q as URL query parameters.
func (q ListQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"topic": q.Topic, "category": q.Category, "originator": q.Originator} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	return v
}

// ParseListQuery decodes a ListQuery; an absent limit is DefaultLimit.
func ParseListQuery(v url.Values) (ListQuery, error) {
	q := ListQuery{Topic: v.Get("topic"), Category: v.Get("category"), Originator: v.Get("originator"), Limit: DefaultLimit}
	var err error
	if q.Since, err = parseTime(v, "since"); err != nil {
		return q, err
	}
	if s := v.Get("limit"); s != "" {
		l, err := strconv.Atoi(s)
		if err != nil || l < 0 {
			return q, Errorf(Invalid, "limit %q is not a count (0 means all)", s)
		}
		q.Limit = l
	}
	return q, nil
}

// SearchQuery is GET /v1/search: a query with list's filters.
type SearchQuery struct {
	ListQuery
	Q string // words and TYPE:VALUE terms (see docs/cli.md, search)
}

// Values encodes q as URL query parameters.
func (q SearchQuery) Values() url.Values {
	v := q.ListQuery.Values()
	v.Set("q", q.Q)
	return v
}

// ParseSearchQuery decodes a SearchQuery.
func ParseSearchQuery(v url.Values) (SearchQuery, error) {
	l, err := ParseListQuery(v)
	return SearchQuery{ListQuery: l, Q: v.Get("q")}, err
}

// AlertQuery selects alerts (GET /v1/alerts, GET /v1/alerts/watch).
type AlertQuery struct {
	Since time.Time // raised at or after; zero: any time
	After *uint64   // after this alert sequence number; nil: from the start (list) or from now (watch)
	Limit int       // at most this many; 0: all
}

// Values encodes q as URL query parameters.
func (q AlertQuery) Values() url.Values {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if q.After != nil {
		v.Set("after", strconv.FormatUint(*q.After, 10))
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	return v
}

// ParseAlertQuery decodes an AlertQuery.
func ParseAlertQuery(v url.Values) (AlertQuery, error) {
	var q AlertQuery
	var err error
	if q.Since, err = parseTime(v, "since"); err != nil {
		return q, err
	}
	if q.After, err = parseSeq(v, "after"); err != nil {
		return q, err
	}
	limit, err := parseSeq(v, "limit")
	if limit != nil {
		q.Limit = int(*limit)
	}
	return q, err
}

// WatchQuery is GET /v1/watch: bulletins received after the receive
// sequence number After (nil: from now), then each new one.
type WatchQuery struct {
	After *uint64
}

// Values encodes q as URL query parameters.
func (q WatchQuery) Values() url.Values {
	v := url.Values{}
	if q.After != nil {
		v.Set("after", strconv.FormatUint(*q.After, 10))
	}
	return v
}

// ParseWatchQuery decodes a WatchQuery.
func ParseWatchQuery(v url.Values) (WatchQuery, error) {
	after, err := parseSeq(v, "after")
	return WatchQuery{After: after}, err
}

// RelatedLimit is how many other bulletins per entity related returns by
// default.
const RelatedLimit = 50

// ParseRelatedLimit decodes the limit of GET /v1/bulletins/{id}/related.
func ParseRelatedLimit(v url.Values) (int, error) {
	s := v.Get("limit")
	if s == "" {
		return RelatedLimit, nil
	}
	l, err := strconv.Atoi(s)
	if err != nil || l < 0 {
		return 0, Errorf(Invalid, "limit %q is not a count (0 means all)", s)
	}
	return l, nil
}

func parseTime(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, Errorf(Invalid, "%s %q is not an RFC 3339 time", name, s)
	}
	return t, nil
}

func parseSeq(v url.Values, name string) (*uint64, error) {
	s := v.Get(name)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return nil, Errorf(Invalid, "%s %q is not a non-negative number", name, s)
	}
	return &n, nil
}
