// Command gen writes lbx's model JSON Schema and lbx.yaml(5) man page from
// the model's Go types (see package internal/schema). From the repository
// root:
//
//	go run ./internal/schema/gen -schema schema/lbx.schema.json -man dist/man/lbx.yaml.5
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lbx-dev/lbx/internal/schema"
)

func main() {
	schemaOut := flag.String("schema", "", "write the JSON Schema to this file")
	manOut := flag.String("man", "", "write the lbx.yaml(5) man page (roff) to this file")
	examples := flag.String("examples", "examples", "directory of example models for the man page's EXAMPLES")
	flag.Parse()
	if *schemaOut == "" && *manOut == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gen [-schema FILE.json] [-man FILE.5] [-examples DIR]")
		os.Exit(2)
	}
	if err := run(*schemaOut, *manOut, *examples); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(schemaOut, manOut, examples string) error {
	m, err := schema.Describe()
	if err != nil {
		return err
	}
	if schemaOut != "" {
		b, err := m.JSONSchema()
		if err != nil {
			return err
		}
		if err := write(schemaOut, b); err != nil {
			return err
		}
	}
	if manOut != "" {
		ex, err := schema.ReadExamples(examples)
		if err != nil {
			return err
		}
		if err := write(manOut, m.Man(ex)); err != nil {
			return err
		}
	}
	return nil
}

func write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
