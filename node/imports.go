package node

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// maxImportSource bounds a recorded source ID: STIX IDs and MISP event
// references are under 100 bytes.
const maxImportSource = 512

// handleImportLookup answers whether a foreign object was already
// imported: the bulletin it became, or 404.
func (n *Node) handleImportLookup(w http.ResponseWriter, r *http.Request) {
	source := r.URL.Query().Get("source")
	if source == "" {
		writeError(w, http.StatusBadRequest, errors.New("give ?source=ID: the foreign object's ID (a STIX ID or misp-event:UUID)"))
		return
	}
	id, err := n.store.Import(source)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Errorf("import source %q was never published on this node", source))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, fmt.Errorf("reading the import ledger: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, api.ImportRecord{Source: source, Bulletin: id})
}

// handleImportRecord records that a foreign object was published as a
// bulletin this node holds.
func (n *Node) handleImportRecord(w http.ResponseWriter, r *http.Request) {
	var req api.ImportRecord
	if !readJSON(w, r, &req) {
		return
	}
	if req.Source == "" || len(req.Source) > maxImportSource {
		writeError(w, http.StatusBadRequest, fmt.Errorf("source must name the foreign object in 1 to %d bytes (a STIX ID or misp-event:UUID), not %d", maxImportSource, len(req.Source)))
		return
	}
	if !protocol.ValidBulletinID(req.Bulletin) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bulletin %q is not a bulletin ID (%d characters, as publish prints)", req.Bulletin, protocol.BulletinIDLen))
		return
	}
	if _, err := n.store.Bulletin(req.Bulletin); err != nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("bulletin %s is not on this node: record an import only after publishing it", req.Bulletin))
		return
	}
	if err := n.store.PutImport(r.Context(), req.Source, req.Bulletin); err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("recording the import: %w", err))
		return
	}
	writeJSON(w, http.StatusCreated, req)
}
