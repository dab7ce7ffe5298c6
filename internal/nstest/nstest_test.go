package nstest

import (
	"fmt"
	"net"
	"net/http"
	"testing"
)

// TestHTTPGet: a server listening inside one namespace answers HTTPGet
// made from that namespace, and nobody else: the same address from another
// namespace is refused.
func TestHTTPGet(t *testing.T) {
	Require(t)
	server, other := New(t, Unique("hg")), New(t, Unique("hg"))
	var ln net.Listener
	if err := server.Do(func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from "+server.Name) }))
	t.Cleanup(func() { ln.Close() })
	url := "http://" + ln.Addr().String() + "/"

	for _, tc := range []struct {
		from   *NS
		want   string
		wantOK bool
	}{
		{server, "hello from " + server.Name, true},
		{other, "", false},
	} {
		got, err := tc.from.HTTPGet(url)
		if (err == nil) != tc.wantOK || got != tc.want {
			t.Errorf("HTTPGet(%s) from %s = %q, %v; want %q, ok=%v", url, tc.from.Name, got, err, tc.want, tc.wantOK)
		}
	}
}
