package entity

import "testing"

func BenchmarkKeys(b *testing.B) {
	entities := []struct{ typ, value string }{
		{"phone", "0801 234 5678"}, {"iban", "GB82 WEST 1234 5698 7654 32"}, {"vessel", "MV Aurora IMO 9074729"},
		{"person", "GARCÍA LOPEZ, Juan"}, {"email", "Ops@Bücher.Example"},
	}
	for b.Loop() {
		for _, e := range entities {
			Keys(ent(e.typ, e.value), "NGA")
		}
	}
}

func BenchmarkWords(b *testing.B) {
	text := "Vessel MV-Aurora (IMO 9074729) left Lomé on 3 March with GARCÍA LOPEZ, Juan aboard; call +234 801 234 5678."
	for b.Loop() {
		Words(text)
	}
}
