package validate

import (
	"strings"
	"testing"
)

var nameCases = []ruleCase{
	{"Chinese", "张三", ""},
	{"minority with middle dot", "阿卜杜热西提·买买提", ""},
	{"minority with bullet", "阿卜杜热西提•买买提", ""},
	{"two dots", "爱新觉罗·溥仪·某", ""},
	{"extension B character", "王𠀋", ""},
	{"Latin", "John Smith", ""},
	{"apostrophe", "O'Brien", ""},
	{"hyphen", "Jean-Luc Picard", ""},
	{"trailing period", "Martin Luther King Jr.", ""},
	{"accents", "José Núñez", ""},
	{"Vietnamese", "Nguyễn Văn An", ""},
	{"30 runes", strings.Repeat("张", 30), ""},
	{"30 Latin letters", strings.Repeat("a", 30), ""},

	{"empty", "", "must not be empty"},
	{"one rune", "张", "must be at least 2 characters"},
	{"31 runes", strings.Repeat("张", 31), "must be at most 30 characters"},
	{"31 Latin letters", strings.Repeat("a", 31), "must be at most 30 characters"},
	{"huge", strings.Repeat("张", 1<<20), "must be at most 30 characters"},
	{"leading space", " 张三", "must not start or end with a space"},
	{"trailing space", "John Smith ", "must not start or end with a space"},
	{"trailing ideographic space", "张三\u3000", "must not start or end with a space"},
	{"only spaces", "   ", "must not start or end with a space"},
	{"invalid UTF-8", "张\xff三", "must be valid UTF-8"},
	{"digit", "张3", "must not contain digits"},
	{"full-width digit", "张３", "must not contain digits"},
	{"Roman numeral", "Henry Ⅷ", "must not contain digits"},
	{"NUL", "张\x00三", "must not contain control or invisible characters"},
	{"newline", "John\nSmith", "must not contain control or invisible characters"},
	{"zero-width space", "张\u200b三", "must not contain control or invisible characters"},
	{"bidi override", "John\u202eSmith", "must not contain control or invisible characters"},
	{"emoji", "张三😀", "may contain only Chinese or Latin letters"},
	{"markup", "<script>", "may contain only Chinese or Latin letters"},
	{"underscore", "John_Smith", "may contain only Chinese or Latin letters"},
	{"Cyrillic", "Иван Петров", "may contain only Chinese or Latin letters"},
	{"full-width Latin", "Ｊｏｈｎ", "may contain only Chinese or Latin letters"},
	{"combining accent", "Jose\u0301", "may contain only Chinese or Latin letters"},
	{"Kangxi radical look-alike", "⼿机", "may contain only Chinese or Latin letters"},
	{"katakana middle dot", "阿卜杜・买买提", "may contain only Chinese or Latin letters"},
	{"mixed scripts", "张John", "must not mix Chinese and Latin letters"},
	{"space in Chinese", "张 三", "a Chinese name must not contain spaces or Latin punctuation"},
	{"hyphen in Chinese", "张-三", "a Chinese name must not contain spaces or Latin punctuation"},
	{"leading dot", "·张三", "may use · only between two Chinese characters"},
	{"trailing dot", "张三·", "may use · only between two Chinese characters"},
	{"double dot", "张··三", "may use · only between two Chinese characters"},
	{"dots only", "··", "a Latin-script name must start with a letter"},
	{"middle dot in Latin", "John·Smith", "may use · only in a Chinese name"},
	{"leading hyphen", "-John", "a Latin-script name must start with a letter"},
	{"punctuation only", "..", "a Latin-script name must start with a letter"},
	{"double space", "John  Smith", "must not contain consecutive spaces"},
}

func TestName(t *testing.T) {
	for _, tc := range nameCases {
		t.Run(tc.name, func(t *testing.T) { checkRule(t, Name(tc.in), tc.rule) })
	}
}
