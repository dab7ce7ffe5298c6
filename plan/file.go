package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// fileFormat identifies a saved plan file.
const fileFormat = "lbx-plan/1"

// File is a saved plan (`lbx plan --out FILE`): the changes, the scope and
// fingerprint of the live state they were planned against, and where.
type File struct {
	Format string `json:"format"`
	Netns  string `json:"netns,omitempty"`
	Model  string `json:"model,omitempty"`
	Plan   *Plan  `json:"plan"`
}

// Save writes a plan file atomically.
func Save(path string, p *Plan, netns, modelFile string) error {
	b, err := json.MarshalIndent(File{Format: fileFormat, Netns: netns, Model: modelFile, Plan: p}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lbx-plan-*")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// Load reads a plan file written by Save.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil || f.Format != fileFormat || f.Plan == nil {
		return nil, fmt.Errorf("%s is not an lbx plan file (written by `lbx plan --out`)", path)
	}
	if f.Plan.Fingerprint == "" {
		return nil, fmt.Errorf("%s has no fingerprint; make the plan again with `lbx plan --out`", path)
	}
	return &f, nil
}

// IsPlanFile reports whether path looks like a saved plan rather than a
// model, so that `lbx apply FILE` can accept either.
func IsPlanFile(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var probe struct {
		Format string `json:"format"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.Format == fileFormat
}
