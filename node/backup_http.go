package node

import (
	"encoding/json"
	"net/http"

	"github.com/concordnet/concord/node/api"
)

// writeError answers err as the local API does. Only backup.go's
// handleBackup still calls it, and the local API serves backups itself
// (localapi, Service.Backup): it goes when that handler does.
func writeError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(api.Error{Class: api.ClassOfStatus(code), Message: err.Error()})
}
