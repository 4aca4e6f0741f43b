package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"concord": main})
}

// TestScripts runs the CLI the way an operator types it: testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Short homes: a Unix socket path must fit in 108 bytes.
			env.Setenv("CONCORD_HOME", filepath.Join(env.WorkDir, "h"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfor":     cmdWaitFor,
			"envfromfile": cmdEnvFromFile,
			"sigterm":     cmdSigterm,
			"flipchar":    cmdFlipChar,
			"exitcode":    cmdExitCode,
		},
	})
}

// waitfor TIMEOUT REGEXP PROG ARGS... reruns PROG until its stdout matches
// REGEXP or TIMEOUT passes: a poll with a deadline, never a fixed sleep.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: waitfor TIMEOUT REGEXP PROG [ARGS...]")
	}
	timeout, err := time.ParseDuration(args[0])
	ts.Check(err)
	re := regexp.MustCompile(args[1])
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond) // poll cadence, not a wait for the outcome
	defer tick.Stop()
	for ; ; <-tick.C {
		err := ts.Exec(args[2], args[3:]...)
		out := ts.ReadFile("stdout")
		if err == nil && re.MatchString(out) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("after %v, %s %v still does not print %q; last stdout:\n%s\nlast stderr:\n%s", timeout, args[2], args[3:], args[1], out, ts.ReadFile("stderr"))
		}
	}
}

// exitcode CODE PROG ARGS... runs PROG and checks that it exits with
// CODE, as the exit-code table of docs/cli.md says; its stdout and stderr
// are then checked as after exec.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s %v exited %d, want %d", args[1], args[2:], got, want)
	}
}

// envfromfile VAR FILE [REGEXP] sets VAR to the first line of FILE, or to
// the first submatch of REGEXP in it.
func cmdEnvFromFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: envfromfile VAR FILE [REGEXP]")
	}
	text := ts.ReadFile(args[1])
	if len(args) == 3 {
		m := regexp.MustCompile(args[2]).FindStringSubmatch(text)
		if len(m) < 2 {
			ts.Fatalf("%s does not match %q", args[1], args[2])
		}
		ts.Setenv(args[0], m[1])
		return
	}
	line, _, _ := strings.Cut(text, "\n")
	ts.Setenv(args[0], strings.TrimSpace(line))
}

// sigterm HOME sends SIGTERM to the daemon whose pid is in HOME/daemon.lock.
func cmdSigterm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sigterm HOME")
	}
	data, err := os.ReadFile(filepath.Join(ts.MkAbs(args[0]), "daemon.lock"))
	ts.Check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	ts.Check(err)
	ts.Check(syscall.Kill(pid, syscall.SIGTERM))
}

// flipchar FILE INDEX replaces the letter or digit at byte INDEX of FILE
// (counted from the end if negative; the nearest one before it if INDEX
// holds another character) with another letter: 'A', or 'B' if it was 'A'.
// That is one altered character in a card or token, still in the base64
// alphabets.
func cmdFlipChar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: flipchar FILE INDEX")
	}
	data := []byte(ts.ReadFile(args[0]))
	i, err := strconv.Atoi(args[1])
	ts.Check(err)
	if i < 0 {
		i += len(data)
	}
	for i >= 0 && i < len(data) && !isAlnum(data[i]) {
		i--
	}
	if i < 0 || i >= len(data) {
		ts.Fatalf("%s has %d bytes and no letter or digit at or before index %s", args[0], len(data), args[1])
	}
	if data[i] == 'A' {
		data[i] = 'B'
	} else {
		data[i] = 'A'
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o644))
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
