package model

import (
	"strings"
	"testing"
)

// wantErrors checks err, from Parse, against want: one error per entry,
// each naming its substring. No want is a valid model.
func wantErrors(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("want a valid model, got:\n%v", err)
		}
		return
	}
	es, ok := AsErrors(err)
	if !ok {
		t.Fatalf("err = %v, want model errors %q", err, want)
	}
	wantEach(t, es, want)
}

// wantWarnings parses y (a valid model) and checks its BGP warnings
// against want as wantErrors does.
func wantWarnings(t *testing.T, y string, want []string) {
	t.Helper()
	m, err := Parse([]byte(y), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wantEach(t, BGPWarnings(m), want)
}

// wantEach wants one of es per entry of want, each entry a substring of
// es.
func wantEach(t *testing.T, es Errors, want []string) {
	t.Helper()
	if len(es) != len(want) {
		t.Errorf("got %d, want %d:\n%v", len(es), len(want), es)
	}
	for _, w := range want {
		if !strings.Contains(es.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, es)
		}
	}
}
