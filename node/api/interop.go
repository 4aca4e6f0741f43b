package api

// ImportRecord is GET /v1/imports?source=… (200, or 404 when the source
// was never imported here) and the body of POST /v1/imports: the foreign
// object Source (a STIX object ID, "misp-event:<uuid>") was published on
// this node as Bulletin. `concord import --publish` asks before publishing
// and records after, so that importing the same file twice publishes
// nothing twice.
type ImportRecord struct {
	Source   string `json:"source"`
	Bulletin string `json:"bulletin"`
}
