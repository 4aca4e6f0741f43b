package protocol

import "bytes"

// RenderDraftMarkdown writes d as ParseMarkdown reads it: RenderMarkdown
// without the header comments a draft has no values for (ID, version,
// times, originator). Attachments are listed by Name, a path relative to
// the file.
func RenderDraftMarkdown(d *BulletinDraft) []byte {
	var w bytes.Buffer
	w.WriteString("---\n")
	writeFrontMatter(&w, d)
	w.WriteString("---\n\n")
	if d.Body != "" {
		w.WriteString(d.Body)
		w.WriteString("\n")
	}
	return w.Bytes()
}
