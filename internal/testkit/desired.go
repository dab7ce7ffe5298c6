package testkit

import (
	"testing"

	"github.com/lbx-dev/lbx/model"
)

// Desired parses modelYAML as the file "model.yaml" and compiles it with
// no facts about the host, as plan and apply receive it; a model that
// does not parse or validate fails the test with the model's errors.
func Desired(t testing.TB, modelYAML string) *model.Desired {
	t.Helper()
	return model.Compile(Model(t, modelYAML), model.Facts{})
}

// Model parses modelYAML as the file "model.yaml"; an error fails the
// test.
func Model(t testing.TB, modelYAML string) *model.Model {
	t.Helper()
	m, err := model.Parse([]byte(modelYAML), "model.yaml")
	if err != nil {
		t.Fatalf("the test's model does not parse: %v", err)
	}
	return m
}
