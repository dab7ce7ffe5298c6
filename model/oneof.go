package model

import (
	"fmt"
	"slices"
	"strings"
)

// The forms of the "one of these words" error texts, for oneOf (and
// convert's badWord, which says keepalived's words the same way). Their
// arguments: %[1]s the value given (quoted when a string), %[2]s the
// words as "a, b or c", %[3]s space-separated, %[4]s comma-separated.
const (
	WantOr          = "want %[2]s, got %[1]s"
	WantOrLowerCase = "want %[2]s (lower case), got %[1]s"
	WantOneOf       = "want one of %[3]s, got %[1]s"
	unknownScope    = "unknown scope %[1]s; want one of %[4]s"
)

// oneOf reports at path, in the text form gives, a value that is not one
// of words; it says whether the value is one of them.
func oneOf[T comparable](v *validator, path string, got T, words []T, form string) bool {
	if slices.Contains(words, got) {
		return true
	}
	v.errorf(path, "%s", WordsText(form, got, words))
	return false
}

// optionalOneOf is oneOf for a field whose zero value means "not set",
// which passes.
func optionalOneOf[T comparable](v *validator, path string, got T, words []T, form string) bool {
	var unset T
	return got == unset || oneOf(v, path, got, words, form)
}

// WordsText fills form (see WantOr) for got and words.
func WordsText[T comparable](form string, got T, words []T) string {
	texts := make([]string, len(words))
	for i, w := range words {
		texts[i] = fmt.Sprint(w)
	}
	orList := strings.Join(texts, ", ")
	if n := len(texts); n > 1 {
		orList = strings.Join(texts[:n-1], ", ") + " or " + texts[n-1]
	}
	shown := fmt.Sprint(got)
	if s, isString := any(got).(string); isString {
		shown = fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf(form, shown, orList, strings.Join(texts, " "), strings.Join(texts, ", "))
}
