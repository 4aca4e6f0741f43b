package node

import (
	"strings"
	"testing"

	"github.com/concordnet/concord/crypto"
)

// TestResolveMember checks the one resolver of member references: ID,
// prefix and country code in any case; none or several is an error that
// names what was given.
func TestResolveMember(t *testing.T) {
	card := func(name, country string) *crypto.Card {
		return &crypto.Card{CardBody: crypto.CardBody{Name: name, Country: country}}
	}
	cards := map[string]*crypto.Card{
		"gxma42stwemk5vcfujvpbmdt": card("Police nationale", "FRA"),
		"y7xbaezklzep2u7vqo7d6xgm": card("Guardia Civil", "ESP"),
		"y7xqqqqklzep2u7vqo7d6xgm": card("Policía Nacional", "ESP"),
	}
	for ref, want := range map[string]string{
		"gxma42stwemk5vcfujvpbmdt": "gxma42stwemk5vcfujvpbmdt",
		"GXMA42":                   "gxma42stwemk5vcfujvpbmdt",
		"fra":                      "gxma42stwemk5vcfujvpbmdt",
		" y7xb ":                   "y7xbaezklzep2u7vqo7d6xgm",
	} {
		got, err := matchMember(cards, ref, "member", "member of topic \"T\"")
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", ref, got, err, want)
		}
	}
	for ref, msg := range map[string]string{
		"DEU": `member "DEU" matches no member of topic "T": give a member ID`,
		"gxm": `member "gxm" matches no member`, // prefixes need 4 characters
		"esp": `member "esp" matches 2 members: y7xbaezklzep2u7vqo7d6xgm (Guardia Civil, ESP), y7xqqqqklzep2u7vqo7d6xgm (Policía Nacional, ESP); give a member ID or a longer prefix`,
		"y7x": `member "y7x" matches no member`,
	} {
		if _, err := matchMember(cards, ref, "member", "member of topic \"T\""); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: got %v, want %q", ref, err, msg)
		}
	}
}

func TestResolveTopicDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"cocain", "cocaine", 1}, {"Policía", "Policia", 1}} {
		if got := levenshtein(c.a, c.b); got != c.d {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
