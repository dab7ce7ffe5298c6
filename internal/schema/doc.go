// Package schema describes lbx's model format for people and editors. It
// walks the Go types of package model by reflection over their yaml tags,
// takes each field's description from its Go doc comment (model/*.go is
// parsed at generation time), its default from model.FieldDefaults and its
// allowed values from the validator's tables (rules.go), and renders that
// one description twice: as a JSON Schema (draft-07, which
// yaml-language-server and ajv both handle) and as the lbx.yaml(5) man
// page. Neither can drift from the loader: both come from its types.
//
// Regenerate both, from the repository root:
//
//	go run ./internal/schema/gen -schema schema/lbx.schema.json -man dist/man/lbx.yaml.5
//
// schema/lbx.schema.json is committed (editors reference it; a test fails
// when it is stale); the man page is a build output.
package schema
