package validate

import "testing"

func BenchmarkIDNumber(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = IDNumber("110101199003074477")
	}
}

func BenchmarkName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Name("阿卜杜热西提·买买提")
	}
}

func BenchmarkBase64Media(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(bigMedia)))
	for b.Loop() {
		_ = Base64Media(bigMedia, len(bigMedia))
	}
}
