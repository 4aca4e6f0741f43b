package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
)

func newAuditCmd(g *globals) *cobra.Command {
	var since, user, action string
	c := &cobra.Command{
		Use:   "audit [--since TIME|DURATION] [--user U] [--action A]",
		Short: "Read, verify and export the node's audit log (auditor or admin)",
		Long: `The daemon records every call on its local API (concord status aside): when,
which OS user (by the socket's peer credentials) and uid, the action (show,
list, search, publish, revise, revoke, import, watchlist, topic-admin, invite,
join, backup, audit ...), the topic and bulletin, and the outcome (ok,
refused by role, or error with its class). Entries are hash-chained and kept
encrypted in the node's store; the chain's head is also written to
audit.head in the home, for the operator to ship elsewhere.

Without a subcommand, lists the entries selected, oldest first. Needs role
auditor or admin (see [api.roles] in config.toml).`,
		Example: `  concord audit --since 24h --user bob
  concord audit --action publish --json
  concord audit verify
  concord audit export -o audit-2026-05.jsonl`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			q := api.AuditQuery{User: user, Action: action}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				q.Since = t
			}
			es, err := auditEntries(c.Context(), g, q)
			if err != nil {
				return err
			}
			return printList(g, es, "INDEX\tTIME\tUSER\tACTION\tTOPIC\tBULLETIN\tOUTCOME", func(e api.AuditEntry) []any {
				outcome := e.Outcome
				if e.Class != "" {
					outcome += " (" + e.Class + ")"
				}
				return []any{e.Index, e.Time.UTC().Format(time.RFC3339), e.User, e.Action, shortID(e.Topic), shortID(e.Bulletin), outcome}
			})
		},
	}
	c.Flags().StringVar(&since, "since", "", "entries at or after this time (RFC 3339, date, or a duration back: 24h, 7d)")
	c.Flags().StringVar(&user, "user", "", "entries of this OS user only")
	c.Flags().StringVar(&action, "action", "", "entries of this action only (show, publish, ...)")
	c.AddCommand(newAuditVerifyCmd(g), newAuditExportCmd(g))
	return c
}

// auditEntries reads the entries q selects.
func auditEntries(ctx context.Context, g *globals, q api.AuditQuery) ([]api.AuditEntry, error) {
	s, err := call1(ctx, g, (*api.Client).Audit, q)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	out := []api.AuditEntry{}
	return out, eachEntry(s, func(e api.AuditEntry) error { out = append(out, e); return nil })
}

func eachEntry(s *api.Stream[api.AuditEntry], fn func(api.AuditEntry) error) error {
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the audit log from the daemon: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

func newAuditVerifyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit chain and report the first altered or missing entry",
		Long: `Re-reads every stored audit entry and checks its bytes against its hash, its
index, and its link to the entry before (from the anchor retention left, if
any), then that the chain reaches the entry audit.head names. Exit 0 when
intact; exit 1 naming the first entry altered, missing or out of place.

It proves the log is as the daemon wrote it unless someone able to write the
store and audit.head rewrote both: compare audit.head with a copy shipped
elsewhere (docs/security.md, Local access).`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := call(c.Context(), g, (*api.Client).AuditVerify)
			if err != nil {
				return err
			}
			if g.json {
				if err := printJSON(stdout, r); err != nil {
					return err
				}
			}
			if !r.OK {
				return fmt.Errorf("audit log NOT intact: %s (entries %d to %d verified; compare with your last audit export and a shipped copy of audit.head)", r.Problem, r.From, r.Head.Index)
			}
			if !g.json {
				fmt.Fprintf(stdout, "audit log intact: %d entries, index %d to %d, head %s\n", r.Entries, r.From, r.Head.Index, r.Head.Hash)
			}
			return nil
		},
	}
}

func newAuditExportCmd(g *globals) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "export [-o FILE]",
		Short: "Write every audit entry as JSON lines, with its hashes",
		Long: `Writes every kept audit entry, oldest first, one JSON object a line exactly as
stored (index, time, user, uid, action, topic, bulletin, detail, outcome,
class, prev, hash), to FILE (created mode 0600) or stdout: for the agency's
records. Anyone can re-check the chain from it: each hash is the SHA-256 of
the line with "hash" empty, and each prev the hash of the line before.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := call1(c.Context(), g, (*api.Client).Audit, api.AuditQuery{})
			if err != nil {
				return err
			}
			defer s.Close()
			w := stdout
			if out != "" {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			n := 0
			err = eachEntry(s, func(e api.AuditEntry) error {
				n++
				_, err := w.Write(append(e.Canonical(), '\n'))
				return err
			})
			if err != nil {
				return err
			}
			if f, ok := w.(*os.File); ok && out != "" {
				if err := f.Sync(); err != nil {
					return err
				}
			}
			fmt.Fprintf(stderr, "exported %d audit entries\n", n)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	return c
}
