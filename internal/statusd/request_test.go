package statusd

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/daemonview"
)

// withModel is sample with a daemon model of n objects.
func withModel(n int) func() Status {
	return func() Status {
		st := sample()
		for i := range n {
			st.DaemonModel = append(st.DaemonModel, daemonview.Object{Address: "vrrp_instance.VI_" + string(rune('A'+i)), Kind: daemonview.KindVRRPInstance, Settings: map[string]any{"priority": 100.0}})
		}
		return st
	}
}

// The daemon's model is sent to the client that asks for it only; asked
// for, it is a list even when empty. The request is bounded: a long or
// unterminated one is cut and still answered.
func TestRequestDaemonModel(t *testing.T) {
	tests := []struct {
		name    string
		objects int
		send    string
		want    string // daemon_model's JSON, "" for absent
	}{
		{"plain status", 2, "status\n", ""},
		{"nothing sent", 2, "", ""},
		{"asked", 2, "status daemon_model\n", `[{"address":"vrrp_instance.VI_A"`},
		{"asked, with a word this daemon does not know", 1, "status bgp_ribs daemon_model\n", `[{"address":"vrrp_instance.VI_A"`},
		{"asked, the daemon runs nothing of its own", 0, "status daemon_model\n", `[]`},
		{"asked beyond MaxRequest", 1, "status " + strings.Repeat("x", MaxRequest) + " daemon_model\n", ""},
		{"asked without a newline", 1, "status daemon_model", `[{"address":"vrrp_instance.VI_A"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := serve(t, withModel(tc.objects))
			c, err := net.Dial("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(ConnTimeout))
			io.WriteString(c, tc.send)
			c.(*net.UnixConn).CloseWrite()
			b, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%v: %q", err, b)
			}
			got, ok := doc["daemon_model"]
			if tc.want == "" && ok || tc.want != "" && !strings.HasPrefix(string(got), tc.want) {
				t.Fatalf("daemon_model = %s (present %v), want %q", got, ok, tc.want)
			}
		})
	}
}

func TestQueryRequest(t *testing.T) {
	path, _ := serve(t, withModel(3))
	tests := []struct {
		req  Request
		want int
	}{{Request{}, 0}, {Request{DaemonModel: true}, 3}}
	for _, tc := range tests {
		st, err := QueryRequest(context.Background(), path, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.DaemonModel) != tc.want || tc.want == 0 && st.DaemonModel != nil {
			t.Errorf("%+v: %d objects (%v), want %d", tc.req, len(st.DaemonModel), st.DaemonModel, tc.want)
		}
	}
}

// An older daemon answers without reading the request: asked for its
// model, the client says what to do instead of diffing against nothing.
func TestQueryRequestOlderDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, `{"format_version":1,"daemon":{"pid":42,"version":"0.9.0"}}`+"\n")
			c.(*net.UnixConn).CloseWrite()
			io.Copy(io.Discard, c) // as it did: drain, then close
			c.Close()
		}
	}()
	if _, err := QueryRequest(context.Background(), path, Request{}); err != nil {
		t.Fatalf("plain status of an older daemon: %v", err)
	}
	_, err = QueryRequest(context.Background(), path, Request{DaemonModel: true})
	if err == nil || !strings.Contains(err.Error(), "pid 42") || !strings.Contains(err.Error(), "did not send its model") {
		t.Fatalf("asking an older daemon for its model: %v", err)
	}
}
