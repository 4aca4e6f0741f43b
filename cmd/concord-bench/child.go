package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// childEnv, when set, makes this binary the memory baseline instead of
// the benchmark: a process holding only the libraries Concord stands on.
const childEnv = "CONCORD_BENCH_CHILD"

// runChild is the baseline process: a libp2p host built like Concord's
// with GossipSub subscribed to one topic, and a Badger database with the
// store's options into which it writes n pairs of values the size of an
// envelope and of a bulletin record. It prints "ready", then waits for
// its stdin to close. Args: dir n envelope-size record-size.
func runChild(args []string) int {
	if err := child(args); err != nil {
		fmt.Fprintln(os.Stderr, "concord-bench child:", err)
		return 1
	}
	return 0
}

func child(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want dir n envelope-size record-size, got %q", args)
	}
	var nums [3]int
	for i, a := range args[1:] {
		v, err := strconv.Atoi(a)
		if err != nil {
			return err
		}
		nums[i] = v
	}
	h, err := newBaseHost(tcpLoopback)
	if err != nil {
		return err
	}
	defer h.Close()
	ps, err := pubsub.NewGossipSub(context.Background(), h)
	if err != nil {
		return err
	}
	t, err := ps.Join(benchTopic)
	if err != nil {
		return err
	}
	if _, err := t.Subscribe(); err != nil {
		return err
	}
	if err := fillBadger(args[0], nums[0], nums[1], nums[2]); err != nil {
		return err
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// fillBadger writes n envelope-sized and n record-sized values in one
// WriteBatch, then keeps the database open (its memory is what counts).
func fillBadger(dir string, n, envSize, recSize int) error {
	db, err := openBadger(dir)
	if err != nil {
		return err
	}
	// Left open on purpose until the process exits.
	wb := db.NewWriteBatch()
	val := make([]byte, max(envSize, recSize))
	rand.Read(val)
	for i := range n {
		for k, size := range []int{envSize, recSize} {
			key := binary.BigEndian.AppendUint64([]byte{byte('e' + k)}, uint64(i))
			if err := wb.Set(key, val[:size]); err != nil {
				return err
			}
		}
	}
	return wb.Flush()
}

// childMem starts the baseline process, waits until it is ready and has
// settled, and reads its memory.
func childMem(ctx context.Context, dir string, n, envSize, recSize int, settle time.Duration) (memStat, error) {
	self, err := os.Executable()
	if err != nil {
		return memStat{}, err
	}
	cmd := exec.CommandContext(ctx, self, dir, strconv.Itoa(n), strconv.Itoa(envSize), strconv.Itoa(recSize))
	cmd.Env = append(os.Environ(), childEnv+"=libraries")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return memStat{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return memStat{}, err
	}
	if err := cmd.Start(); err != nil {
		return memStat{}, err
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		return memStat{}, fmt.Errorf("baseline process did not get ready: %q %v", line, err)
	}
	time.Sleep(settle)
	return readMem(cmd.Process.Pid)
}
