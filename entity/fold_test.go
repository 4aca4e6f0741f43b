package entity

import (
	"slices"
	"testing"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"GARCÍA":       "garcia",
		"garcia":       "garcia",
		"Garci\u0301a": "garcia", // decomposed accent
		"Straße":       "strasse",
		"ŁÓDŹ":         "lodz",
		"Øresund":      "oresund",
		"ﬁsh":          "fish",
		"\u212Aelvin":  "kelvin", // Kelvin sign
		"İstanbul":     "istanbul",
		"Ἀθῆναι":       "αθηναι",
		"МОСКВА":       "москва",
		"":             "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"GARCÍA LOPEZ, Juan", []string{"garcia", "lopez", "juan"}},
		{"Vessel MV-Aurora (IMO 9074729) left Lomé.", []string{"vessel", "mv", "aurora", "imo", "9074729", "left", "lome"}},
		{"a b a", []string{"a", "b", "a"}},
		{"call +234 801 234 5678!", []string{"call", "234", "801", "234", "5678"}},
		{"e-mail: ops@example.org", []string{"e", "mail", "ops", "example", "org"}},
		{"x²½", []string{"x21", "2"}}, // NFKD: x2 1⁄2
		{"東京タワー", []string{"東", "京", "タ", "ワ", "ー"}},
		{"नमस्ते दुनिया", []string{"नमसत", "दनिया"}}, // nonspacing signs dropped, spacing kept
		{"  ...  ", nil},
		{"", nil},
	} {
		if got := Words(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
