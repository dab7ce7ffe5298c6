package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/model/modeltest"
)

// nodeDir holds ajv (pinned in package.json and package-lock.json) and the
// script that runs it; scripts/deps.sh runs `npm ci` there.
const nodeDir = "../../test/schema"

func skip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and the schema cannot be checked with ajv: %s", why)
	}
	testkit.Skip(t, "ajv check skipped: "+why)
}

type doc struct {
	Name string `json:"name"`
	Doc  any    `json:"doc"`
}

type verdict struct {
	Name   string   `json:"name"`
	Valid  bool     `json:"valid"`
	Errors []string `json:"errors"`
}

// ajv validates docs against the schema generated now (not the committed
// one: TestCommittedSchemaIsCurrent checks that they are the same).
func ajv(t *testing.T, docs []doc) map[string]verdict {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		skip(t, "node is not installed (apt-get install nodejs npm)")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "ajv")); err != nil {
		skip(t, "ajv is not installed: run `npm ci` in test/schema (scripts/deps.sh does)")
	}
	m, err := Describe()
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	schemaFile := filepath.Join(t.TempDir(), "lbx.schema.json")
	if err := os.WriteFile(schemaFile, s, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(nodeDir, "validate.js"), schemaFile)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node validate.js: %v\n%s", err, stderr.String())
	}
	var vs []verdict
	if err := json.Unmarshal(out, &vs); err != nil {
		t.Fatalf("node validate.js output: %v\n%s", err, out)
	}
	byName := map[string]verdict{}
	for _, v := range vs {
		byName[v.Name] = v
	}
	return byName
}

// toJSON reads YAML as an editor's language server does: one document,
// merge keys applied, into plain JSON values.
func toJSON(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// accepted are the models lbx accepts: the examples, the models lbx
// convert writes for the converter's golden tests, and what lbx export
// writes for each of them.
func accepted(t *testing.T) map[string][]byte {
	files, _ := filepath.Glob("../../examples/*.yaml")
	golden, _ := filepath.Glob("../../convert/testdata/golden/*.yaml")
	if len(files) < 6 || len(golden) == 0 {
		t.Fatalf("found %d examples and %d converter goldens; run from internal/schema", len(files), len(golden))
	}
	out := map[string][]byte{}
	for _, f := range slices.Concat(files, golden) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := model.Parse(b, f)
		if err != nil {
			t.Fatalf("lbx refuses a fixture that must be valid: %v", err)
		}
		out[f] = b
		exported, err := model.MarshalYAML(model.FromState(model.Compile(m, model.Facts{}).State, nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := model.Parse(exported, "export of "+f); err != nil {
			t.Fatalf("lbx refuses its own export of %s: %v", f, err)
		}
		out["export of "+f] = exported
	}
	return out
}

// TestSchemaAcceptsWhatLbxAccepts: every valid model of the repository,
// and lbx export's output for each, passes the schema.
func TestSchemaAcceptsWhatLbxAccepts(t *testing.T) {
	var docs []doc
	for name, b := range accepted(t) {
		v, err := toJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, doc{name, v})
	}
	for name, v := range ajv(t, docs) {
		if !v.Valid {
			t.Errorf("%s: lbx accepts it, the schema refuses it:\n  %s", name, strings.Join(v.Errors, "\n  "))
		}
	}
}

// TestSchemaAndLbxAgreeOnBrokenModels: lbx refuses every broken model of
// the test suite; the schema refuses exactly those with at least one
// error of a schema-expressible class (classes_test.go) and accepts those
// whose errors are all semantic, so it is neither too loose nor too strict.
func TestSchemaAndLbxAgreeOnBrokenModels(t *testing.T) {
	want := map[string]bool{}
	var docs []doc
	for _, b := range slices.Concat(modeltest.Invalid, modeltest.InvalidRoutes, schemaBroken) {
		_, err := model.Parse([]byte(b.YAML), "m.yaml")
		es, ok := model.AsErrors(err)
		if !ok || len(es) == 0 {
			t.Errorf("%s: lbx accepts a broken model (err %v)", b.Name, err)
			continue
		}
		expressible, yamlLevel := false, false
		for _, e := range es {
			c := classify(e)
			if c == nil {
				t.Errorf("%s: error %q (at %s) is of no class: add it to classes in classes_test.go", b.Name, e.Msg, e.Path)
				continue
			}
			expressible = expressible || c.schema
			yamlLevel = yamlLevel || c.name == "YAML"
		}
		if yamlLevel {
			continue // refused before any schema applies
		}
		v, err := toJSON([]byte(b.YAML))
		if err != nil {
			t.Errorf("%s: YAML to JSON: %v", b.Name, err)
			continue
		}
		want[b.Name] = expressible
		docs = append(docs, doc{b.Name, v})
	}
	for name, v := range ajv(t, docs) {
		switch {
		case want[name] && v.Valid:
			t.Errorf("%s: lbx refuses it with a schema-expressible error, the schema accepts it", name)
		case !want[name] && !v.Valid:
			t.Errorf("%s: lbx's errors are all semantic, but the schema refuses it (too strict?):\n  %s", name, strings.Join(v.Errors, "\n  "))
		}
	}
	if len(docs) < 40 {
		t.Errorf("only %d broken models reached the schema", len(docs))
	}
}

// schemaBroken adds broken models for the schema's own rules (value types,
// enums, ranges, required keys) that the model's tests do not need.
var schemaBroken = []modeltest.Broken{
	{Name: "duration in words", YAML: "version: 1\nscripts:\n  s: {script: /bin/true, interval: 5 seconds}\n"},
	{Name: "duration without unit", YAML: "version: 1\nscripts:\n  s: {script: /bin/true, interval: '5'}\n"},
	{Name: "forwarding upper case", YAML: "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, forwarding: DR}\n"},
	{Name: "VRID 256", YAML: "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 256}\n"},
	{Name: "instance without interface", YAML: "version: 1\nvrrp_instances:\n  - {name: A, virtual_router_id: 5}\n"},
	{Name: "priority 0", YAML: "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5, priority: 0}\n"},
	{Name: "boolean as yes", YAML: "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5, nopreempt: yes}\n"},
	{Name: "unknown scheduler flag", YAML: "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, scheduler_flags: [flag-9]}\n"},
	{Name: "flag twice", YAML: "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, scheduler_flags: [flag-1, flag-1]}\n"},
	{Name: "check without type", YAML: "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers: [{address: 10.1.0.1, checks: [{connect_port: 80}]}]\n"},
	{Name: "group range past 255", YAML: "version: 1\nvirtual_server_groups:\n  - {name: g, members: [{address: 10.0.0.10-300, port: 80}]}\n"},
	{Name: "netmask with a hole", YAML: "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, persistence: {granularity: 255.0.255.0}}\n"},
	{Name: "digest too short", YAML: "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers: [{address: 10.1.0.1, checks: [{type: http_get, urls: [{path: /, digest: abc}]}]}]\n"},
	{Name: "uint32 negative", YAML: "version: 1\nvirtual_servers:\n  - {fwmark: -1}\n"},
	{Name: "label too long", YAML: "version: 1\naddresses:\n  - {address: 10.0.0.1/24, interface: eth0, label: eth0:abcdefghijk}\n"},
	{Name: "address with zone", YAML: "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5, version: 3, unicast_peers: ['fe80::1%eth0']}\n"},
	{Name: "nopreempt with MASTER", YAML: "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5, state: MASTER, nopreempt: true}\n"},
	{Name: "tunnel without tun", YAML: "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1, tunnel: {type: gre}}]}\n"},
	{Name: "sync group of an unknown instance", YAML: "version: 1\nsync_groups:\n  - {name: G, members: [X]}\n"},
}
