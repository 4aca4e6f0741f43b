package entity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold folds one word (or a whole name) the way the index does: NFKD
// compatibility decomposition, combining marks dropped, lower case, and a
// few letters that do not decompose spelled in ASCII (ß→ss, ø→o, ł→l…),
// so that "GARCÍA", "García" and "garcia" are one word.
func Fold(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	// Invalid UTF-8 would stop the decomposition of what follows it.
	s = norm.NFKD.String(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if sp, ok := foldSpecial[r]; ok {
			b.WriteString(sp)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldSpecial spells letters that have no decomposition but that writers
// commonly replace by ASCII (German, Nordic, Polish, Croatian, Icelandic,
// Turkish names).
var foldSpecial = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l",
	'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t",
}

// Words splits text into folded words, in order and with duplicates: a
// word is a run of letters, digits and spacing marks after folding; every
// other rune separates words. Han, Hiragana and Katakana runes, written
// without spaces, are one word each.
func Words(text string) []string {
	var words []string
	start := -1
	folded := Fold(text)
	for i, r := range folded {
		switch {
		case isIdeograph(r):
			if start >= 0 {
				words = append(words, folded[start:i])
			}
			words = append(words, string(r))
			start = -1
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case start >= 0:
			words = append(words, folded[start:i])
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, folded[start:])
	}
	return words
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r)
}

func isIdeograph(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// joinWords is the folded form of a name: its words separated by one
// space.
func joinWords(s string) string { return strings.Join(Words(s), " ") }
