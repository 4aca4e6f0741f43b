package node

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/concordnet/concord/internal/canon"
)

// Concord's request/response protocols (/concord/join/1, /concord/sync/1)
// share one framing: the asker opens a stream, writes one canonical CBOR
// request and closes its write side; the answerer writes one canonical
// CBOR response and closes the stream.

// request sends req to p over proto and decodes the answer, of at most
// maxResp bytes, into resp.
func (n *Node) request(ctx context.Context, p peer.ID, proto string, req any, maxResp int, resp any) error {
	data, err := canon.Marshal(req)
	if err != nil {
		return err
	}
	s, err := n.host.NewStream(ctx, p, protocol.ID(proto))
	if err != nil {
		return fmt.Errorf("opening %s with %s: %w", proto, p, err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	if _, err := s.Write(data); err != nil {
		return err
	}
	if err := s.CloseWrite(); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(s, int64(maxResp)+1))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", p, err)
	}
	if len(body) > maxResp {
		return fmt.Errorf("the answer of %s is larger than %d bytes", p, maxResp)
	}
	if err := canon.Unmarshal(body, resp); err != nil {
		return fmt.Errorf("the answer of %s is malformed: %w", p, err)
	}
	return nil
}

// serve reads one request of at most maxReq bytes from s into req, calls
// answer and writes what it returns. A request that cannot be read is
// answered by bad.
func serve[Req, Resp any](s network.Stream, maxReq int, timeout time.Duration, bad func(error) Resp, answer func(*Req) Resp) {
	defer s.Close()
	s.SetDeadline(time.Now().Add(timeout))
	resp := func() Resp {
		data, err := io.ReadAll(io.LimitReader(s, int64(maxReq)+1))
		if err != nil {
			return bad(fmt.Errorf("reading the request: %w", err))
		}
		if len(data) > maxReq {
			return bad(fmt.Errorf("request is larger than %d bytes", maxReq))
		}
		var req Req
		if err := canon.Unmarshal(data, &req); err != nil {
			return bad(fmt.Errorf("request is malformed: %w", err))
		}
		return answer(&req)
	}()
	if data, err := canon.Marshal(resp); err == nil {
		s.Write(data)
	}
}
