package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
)

// The raw exports: what an auditor or a second implementation checks
// against docs/protocol.md without any secret key.

// Readable lines of the exports, in fixed columns (a stream cannot be
// aligned after the fact).
const (
	logLine      = "%-6v %-17v %-24v %-20v %v"
	envelopeLine = "%-24v %-6v %-10v %-5v %-64v %v"
)

func newTopicLogCmd(g *globals) *cobra.Command {
	var raw bool
	c := &cobra.Command{
		Use:   "log TOPIC [--raw]",
		Short: "Print a topic's log entries, or their exact signed bytes",
		Long: `Print every entry of a topic's log, in order: one line each with its index,
type, author, time (UTC) and hash (SHA-256 of its bytes, hex). With --raw,
each line is instead the base64 (standard, padded) of the entry's exact
signed bytes, which docs/protocol.md (§12, "Verifying a raw export") shows how
to check; with --json, one JSON object a line with both.`,
		Example: `  concord topic log "West Africa cocaine route"
  concord topic log "West Africa cocaine route" --raw > log.b64`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			client, err := g.client()
			if err != nil {
				return err
			}
			s, err := client.TopicLog(c.Context(), args[0])
			if err != nil {
				return err
			}
			return printExport(g, s, raw, fmt.Sprintf(logLine, "INDEX", "TYPE", "AUTHOR", "TIME", "HASH"), func(e api.LogEntry) ([]byte, string, string) {
				return e.Raw, e.Error, fmt.Sprintf(logLine, e.Index, e.Type, e.Author, e.TS.UTC().Format(time.RFC3339), e.Hash)
			})
		},
	}
	c.Flags().BoolVar(&raw, "raw", false, "print the base64 of each entry's exact bytes, one a line")
	return c
}

func newEnvelopesCmd(g *globals) *cobra.Command {
	var (
		raw    bool
		author string
	)
	c := &cobra.Command{
		Use:   "envelopes TOPIC [--author MEMBER] [--raw]",
		Short: "Print the envelopes this node holds on a topic, or their exact bytes",
		Long: `Print the envelopes this node holds on a topic (of one author with --author:
a member ID, unique prefix or country code, current or former member), by
author then sequence number: one line each with author, seq, kind, epoch,
envelope ID (SHA-256 of its bytes, hex) and size in bytes. With --raw, each
line is instead the base64 (standard, padded) of the envelope's exact bytes
(see docs/protocol.md §12); with --json, one JSON
object a line with both. Nothing is decrypted.`,
		Example: `  concord envelopes "West Africa cocaine route"
  concord envelopes "West Africa cocaine route" --author NL --raw > nl.b64`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			client, err := g.client()
			if err != nil {
				return err
			}
			s, err := client.Envelopes(c.Context(), args[0], api.EnvelopeQuery{Author: author})
			if err != nil {
				return err
			}
			return printExport(g, s, raw, fmt.Sprintf(envelopeLine, "AUTHOR", "SEQ", "KIND", "EPOCH", "ID", "SIZE"), func(e api.RawEnvelope) ([]byte, string, string) {
				return e.Raw, e.Error, fmt.Sprintf(envelopeLine, e.Author, e.Seq, e.Kind, e.Epoch, e.ID, e.Size)
			})
		},
	}
	c.Flags().BoolVar(&raw, "raw", false, "print the base64 of each envelope's exact bytes, one a line")
	c.Flags().StringVar(&author, "author", "", "only this author's envelopes (member ID, unique prefix or country code)")
	return c
}

// printExport prints each line of an export stream: --json as JSON, --raw
// as base64 of the bytes, else the readable line. line returns the bytes,
// the daemon's error if it stopped short, and the readable line.
func printExport[T any](g *globals, s *api.Stream[T], raw bool, header string, line func(T) ([]byte, string, string)) error {
	defer s.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if !raw && !g.json {
		fmt.Fprintln(w, header)
	}
	for {
		v, err := s.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("the daemon ended the export early (was it stopped?): the output is incomplete; run the command again")
		case err != nil:
			return fmt.Errorf("reading the export: %w; the output is incomplete", err)
		}
		b, failed, text := line(v)
		if failed != "" {
			return fmt.Errorf("the daemon could not finish the export: %s; the output is incomplete", failed)
		}
		switch {
		case g.json:
			err = json.NewEncoder(w).Encode(v)
		case raw:
			_, err = fmt.Fprintln(w, base64.StdEncoding.EncodeToString(b))
		default:
			_, err = fmt.Fprintln(w, text)
		}
		if err != nil {
			return err
		}
	}
}
