package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// network is the run's namespaces: one holding two bridges (br0 joins
// everyone; br1 holds one half during a split) and one per node, each
// joined to br0 by a veth pair (eth0 in the node, v<i> on the bridge).
type network struct {
	prefix string // cch<pid>: every namespace's name starts with it
	bridge string
	nodes  []string
	made   []string // namespaces created, to delete
}

// subnet is the nodes' private /24; node i is .i+1.
const subnet = "10.77.0."

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ipRun runs each command, stopping at the first error.
func ipRun(cmds ...[]string) error {
	for _, c := range cmds {
		if err := ip(c...); err != nil {
			return err
		}
	}
	return nil
}

// newNetwork creates the namespaces and links of n nodes. On error the
// caller still calls close, which removes what was made.
func newNetwork(prefix string, n int) (*network, error) {
	w := &network{prefix: prefix, bridge: prefix + "-br"}
	if err := w.add(w.bridge); err != nil {
		return w, err
	}
	br := []string{"-n", w.bridge}
	err := ipRun(
		append(br, "link", "set", "lo", "up"),
		append(br, "link", "add", "br0", "type", "bridge"),
		append(br, "link", "add", "br1", "type", "bridge"),
		append(br, "link", "set", "br0", "up"),
		append(br, "link", "set", "br1", "up"))
	if err != nil {
		return w, err
	}
	for i := range n {
		ns := fmt.Sprintf("%s-n%d", prefix, i)
		if err := w.add(ns); err != nil {
			return w, err
		}
		w.nodes = append(w.nodes, ns)
		if err := w.link(i, ns); err != nil {
			return w, err
		}
	}
	return w, nil
}

func (w *network) add(ns string) error {
	if err := ip("netns", "add", ns); err != nil {
		return err
	}
	w.made = append(w.made, ns)
	return nil
}

// link joins node i's namespace to br0.
func (w *network) link(i int, ns string) error {
	v := veth(i)
	return ipRun(
		[]string{"-n", ns, "link", "set", "lo", "up"},
		[]string{"-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", v, "netns", w.bridge},
		[]string{"-n", w.bridge, "link", "set", v, "master", "br0", "up"},
		[]string{"-n", ns, "addr", "add", nodeIP(i) + "/24", "dev", "eth0"},
		[]string{"-n", ns, "link", "set", "eth0", "up"})
}

func veth(i int) string       { return fmt.Sprintf("v%d", i) }
func nodeIP(i int) string     { return fmt.Sprintf("%s%d", subnet, i+1) }
func listenAddr(i int) string { return fmt.Sprintf("/ip4/%s/tcp/7700", nodeIP(i)) }

// setLink brings node i's bridge port up or down: down isolates it.
func (w *network) setLink(i int, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return ip("-n", w.bridge, "link", "set", veth(i), state)
}

// setBridge moves node i's port to br0 (everyone) or br1 (the other half
// of a split).
func (w *network) setBridge(i int, bridge string) error {
	return ip("-n", w.bridge, "link", "set", veth(i), "master", bridge)
}

// heal puts every port up on br0.
func (w *network) heal() error {
	var errs []string
	for i := range w.nodes {
		if err := w.setBridge(i, "br0"); err != nil {
			errs = append(errs, err.Error())
		}
		if err := w.setLink(i, true); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("healing the network: %s", strings.Join(errs, "; "))
	}
	return nil
}

// close deletes every namespace of the run (their links go with them).
func (w *network) close() error {
	var errs []string
	for _, ns := range w.made {
		if err := ip("netns", "del", ns); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("removing the namespaces: %s", strings.Join(errs, "; "))
	}
	return nil
}
