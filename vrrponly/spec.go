package vrrponly

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/lbx-dev/lbx/internal/buildinfo"
	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/state"
	"github.com/lbx-dev/lbx/vrrpd"
)

// SpecFormat names Spec's encoding; a spec of another format is refused.
const SpecFormat = "lbx-vrrp-spec/1"

// MaxSpec bounds a spec's size when it is read: 100 instances take about
// 60 KB, so this is far above any real model and still bounded.
const MaxSpec = 64 << 20

// Spec is a model compiled for lbx-vrrp by lbx (package watch, VRRPOnly):
// everything the process runs, with nothing left to parse or default.
type Spec struct {
	Format string `json:"format"`
	// Build is the build of the lbx that compiled it: lbx-vrrp runs only
	// a spec of its own build (a half-done upgrade mixes them).
	Build     buildinfo.Build `json:"build"`
	ModelFile string          `json:"model_file"`
	Node      string          `json:"node,omitempty"`
	// Full says why the model needs lbx watch's whole engine (virtual
	// servers, static addresses, routes...); empty when lbx-vrrp runs it.
	// A spec with Full set carries nothing else.
	Full string `json:"full,omitempty"`
	// Error is why the model file cannot run (its file:line errors, as
	// lbx validate prints them): a reload keeps the running model.
	Error  string        `json:"error,omitempty"`
	Config *vrrpd.Config `json:"config,omitempty"`
	// Addresses are, by instance name, the addresses an instance holds
	// while MASTER: its virtual addresses and excluded ones, in order.
	Addresses map[string][]state.Address `json:"addresses,omitempty"`
	// Resync is how often the addresses are read back (the model's
	// global.resync_interval).
	Resync time.Duration `json:"resync,omitempty"`
	// DaemonModel is the model's daemon-owned view ([]daemonview.Object),
	// which the status socket serves to lbx plan and lbx apply. It stays
	// encoded until one asks: decoded, its maps of settings are most of
	// what a spec allocates.
	DaemonModel json.RawMessage `json:"daemon_model,omitempty"`
}

// Write encodes s in SpecFormat.
func (s *Spec) Write(w io.Writer) error {
	s.Format = SpecFormat
	return json.NewEncoder(w).Encode(s)
}

// ReadSpec decodes one spec of at most MaxSpec bytes from r.
func ReadSpec(r io.Reader) (*Spec, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSpec+1))
	if err != nil {
		return nil, fmt.Errorf("VRRP spec: %w", err)
	}
	return ParseSpec(b)
}

// ParseSpec decodes one spec.
func ParseSpec(b []byte) (*Spec, error) {
	if len(b) > MaxSpec {
		return nil, fmt.Errorf("VRRP spec: more than %d bytes", MaxSpec)
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		var syntax *json.SyntaxError
		if len(bytes.TrimSpace(b)) == 0 || errors.As(err, &syntax) && syntax.Offset >= int64(len(b)) {
			return nil, errors.New("VRRP spec: cut short (its writer failed)")
		}
		return nil, fmt.Errorf("VRRP spec: %w", err)
	}
	switch {
	case s.Format != SpecFormat:
		return nil, fmt.Errorf("VRRP spec: format %q, want %q (lbx and lbx-vrrp of different builds?)", s.Format, SpecFormat)
	case s.Full == "" && s.Error == "" && s.Config == nil:
		return nil, errors.New("VRRP spec: no configuration")
	}
	s.labelAddresses()
	if s.Config != nil {
		if slices.Contains(s.Config.Instances, nil) {
			return nil, errors.New("VRRP spec: an empty instance")
		}
		if err := vrrpd.CheckConfig(s.Config); err != nil {
			return nil, fmt.Errorf("VRRP spec: %w", err)
		}
	}
	return &s, nil
}

// labelAddresses gives each address its instance as Origin, which the
// JSON does not carry: once here rather than in every reconcile, whose
// steady state then allocates nothing for it.
func (s *Spec) labelAddresses() {
	for name, list := range s.Addresses {
		origin := "vrrp " + name
		for i := range list {
			list[i].Origin = origin
		}
	}
}

// daemonView is the spec's daemon-owned view, decoded.
func (s *Spec) daemonView() []daemonview.Object {
	var v []daemonview.Object
	if err := json.Unmarshal(s.DaemonModel, &v); err != nil {
		return nil
	}
	return v
}
