package validate

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Name length limits, in characters (runes). Two is the shortest Chinese
// name (surname plus given name). Thirty stays under the 32 that DetectAuth
// and GetEidToken document as their Name maximum, with room for the longest
// transliterated minority names.
const (
	MinNameRunes = 2
	MaxNameRunes = 30
)

var (
	nameTooShort = "must be at least " + strconv.Itoa(MinNameRunes) + " characters"
	nameTooLong  = "must be at most " + strconv.Itoa(MaxNameRunes) + " characters"
)

// Name checks a person's name as FaceID's element-check actions take it,
// before Tencent answers "非法姓名" for it. A name is either
//
//   - Chinese: Han characters only, with the middle dot '·' (U+00B7) or the
//     bullet '•' (U+2022) between two Han characters, as in transliterated
//     minority names (阿卜杜热西提·买买提). The bullet is accepted because it
//     is commonly typed in place of the middle dot; the value is sent as
//     given, not rewritten.
//   - Latin-script: Latin letters (accented ones included), spaces (never
//     two in a row), '.', '-' and apostrophes, starting with a letter (John
//     Smith, O'Brien, Jean-Luc Picard, Martin Luther King Jr.).
//
// Digits of any script, control and invisible format characters, other
// scripts, symbols and emoji are rejected, as are leading or trailing spaces
// and a mix of Chinese and Latin letters. Text should be in NFC: a letter
// followed by a combining accent is rejected.
func Name(s string) error {
	if s == "" {
		return broken("must not be empty")
	}
	// A too-long name is rejected before it is scanned so that a huge input
	// costs nothing; UTFMax bytes per rune is the most a valid name can use.
	if len(s) > MaxNameRunes*utf8.UTFMax {
		return broken(nameTooLong)
	}
	if !utf8.ValidString(s) {
		return broken("must be valid UTF-8")
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return broken("must not start or end with a space")
	}
	n := utf8.RuneCountInString(s)
	if n < MinNameRunes {
		return broken(nameTooShort)
	}
	if n > MaxNameRunes {
		return broken(nameTooLong)
	}

	var han, latin bool
	for _, r := range s {
		switch classify(r) {
		case classDigit:
			return broken("must not contain digits")
		case classInvisible:
			return broken("must not contain control or invisible characters")
		case classOther:
			return broken("may contain only Chinese or Latin letters and the separators · • space . - '")
		case classHan:
			han = true
		case classLatin:
			latin = true
		}
	}
	switch {
	case han && latin:
		return broken("must not mix Chinese and Latin letters")
	case han:
		return chineseName(s)
	default:
		return latinName(s)
	}
}

type runeClass uint8

const (
	classOther runeClass = iota
	classDigit
	classInvisible
	classHan
	classLatin
	classDot   // '·' or '•', Chinese names only
	classPunct // ' ', '.', '-', '\'', Latin names only
)

func classify(r rune) runeClass {
	switch {
	case r == '·' || r == '•':
		return classDot
	case r == ' ' || r == '.' || r == '-' || r == '\'':
		return classPunct
	case unicode.IsNumber(r):
		// IsNumber rather than IsDigit: it also catches full-width digits,
		// circled numbers, Roman numerals and 〇, none of which belongs in a
		// name on an ID card.
		return classDigit
	case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		// Cf covers zero-width spaces and joiners, bidi overrides and the BOM:
		// invisible characters that make a name differ from the record.
		return classInvisible
	case isHan(r):
		return classHan
	case isLatinLetter(r):
		return classLatin
	}
	return classOther
}

// isHan excludes the CJK and Kangxi radical blocks, which are in the Han
// script but are look-alike symbols (⼿ for 手) that no registry name uses.
func isHan(r rune) bool {
	if r >= 0x2E80 && r <= 0x2FDF {
		return false
	}
	return unicode.Is(unicode.Han, r)
}

// isLatinLetter admits the Latin blocks real names are written in (ASCII,
// Latin-1, Extended-A/B, Extended Additional for Vietnamese) and leaves out
// full-width, small-capital, IPA and ordinal-indicator look-alikes.
func isLatinLetter(r rune) bool {
	if r == 'ª' || r == 'º' {
		return false
	}
	if r > 0x024F && (r < 0x1E00 || r > 0x1EFF) {
		return false
	}
	return unicode.IsLetter(r) && unicode.Is(unicode.Latin, r)
}

// chineseName runs after classification: s holds Han characters and
// separators only.
func chineseName(s string) error {
	prevHan := false
	for _, r := range s {
		switch classify(r) {
		case classHan:
			prevHan = true
		case classDot:
			if !prevHan {
				return broken("may use · only between two Chinese characters")
			}
			prevHan = false
		default:
			return broken("a Chinese name must not contain spaces or Latin punctuation")
		}
	}
	if !prevHan {
		return broken("may use · only between two Chinese characters")
	}
	return nil
}

// latinName runs after classification: s holds Latin letters and
// separators only, and does not start or end with a space.
func latinName(s string) error {
	first, _ := utf8.DecodeRuneInString(s)
	if classify(first) != classLatin {
		return broken("a Latin-script name must start with a letter")
	}
	prev := rune(0)
	for _, r := range s {
		if classify(r) == classDot {
			return broken("may use · only in a Chinese name")
		}
		if r == ' ' && prev == ' ' {
			return broken("must not contain consecutive spaces")
		}
		prev = r
	}
	return nil
}
