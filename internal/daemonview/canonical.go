package daemonview

import (
	"encoding/json"
	"fmt"
)

// Equal says whether two settings values are the same, whether they were
// built by Of or decoded from JSON (where every number is a float64).
func Equal(a, b any) bool { return encode(a) == encode(b) }

// encode is a value's canonical JSON (maps with sorted keys).
func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
