package check

import (
	"fmt"
	"strings"

	"github.com/lbx-dev/lbx/check/checkspec"
)

// StatusSet is a set of accepted HTTP status codes: inclusive ranges.
type StatusSet []StatusRange

// StatusRange is an inclusive range of status codes.
type StatusRange struct{ Lo, Hi int }

// ParseStatusSet parses status_code entries ("200", "200-299"); no entry
// means keepalived's default, 200-299.
func ParseStatusSet(entries []string) (StatusSet, error) {
	if len(entries) == 0 {
		entries = []string{checkspec.DefaultHTTPStatus}
	}
	var s StatusSet
	for _, e := range entries {
		// keepalived also accepts "200,301" on one line; split here so a
		// converted config keeps working.
		for _, part := range strings.Split(e, ",") {
			lo, hi, err := checkspec.ParseStatusRange(strings.TrimSpace(part))
			if err != nil {
				return nil, err
			}
			s = append(s, StatusRange{lo, hi})
		}
	}
	return s, nil
}

// Contains reports whether code is accepted.
func (s StatusSet) Contains(code int) bool {
	for _, r := range s {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

func (s StatusSet) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		if r.Lo == r.Hi {
			parts[i] = fmt.Sprint(r.Lo)
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.Lo, r.Hi)
		}
	}
	return strings.Join(parts, ",")
}
