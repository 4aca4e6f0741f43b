package localapi

import (
	"encoding/json"
	"net/http"

	"github.com/concordnet/concord/node/api"
)

// maxBody bounds a request body: a bulletin draft with its attachments
// fits well within it.
const maxBody = 4 << 20

// writeJSON answers v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// writeError is the one place an error becomes an answer: the status of
// its class, and api.Error as the body.
func writeError(w http.ResponseWriter, err error) {
	c := api.ClassOf(err)
	writeJSON(w, c.Status(), api.Error{Class: c, Message: err.Error()})
}

// answer writes v (status code) or err.
func answer(w http.ResponseWriter, code int, v any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, code, v)
}
