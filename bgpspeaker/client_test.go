package bgpspeaker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"testing"
)

// fakeChild is set in the environment of the test binary run as a child:
// it then answers every request with an empty reply and exits right after
// its reply to stop, as lbx-bgp does.
const fakeChild = "LBX_TEST_FAKE_LBX_BGP"

func TestMain(m *testing.M) {
	if os.Getenv(fakeChild) == "1" {
		in := bufio.NewScanner(os.Stdin)
		in.Buffer(nil, maxLine)
		for in.Scan() {
			var req request
			if err := json.Unmarshal(in.Bytes(), &req); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			os.Stdout.WriteString("{}\n")
			if req.Op == "stop" {
				os.Exit(0)
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestStopReadsTheLastReply: the child's reply to stop is read even when
// the child exits at once after writing it. Through exec's StdoutPipe,
// which Wait closes as soon as the child exits, Stop failed now and then
// with "read |0: file already closed" (in CI, on a loaded machine). It is
// a race, which a single try rarely loses: hence 50.
func TestStopReadsTheLastReply(t *testing.T) {
	t.Setenv(fakeChild, "1")
	log := slog.New(slog.DiscardHandler)
	for i := range 50 {
		c, err := Start(context.Background(), os.Args[0], Config{}, log)
		if err != nil {
			t.Fatalf("try %d: start: %v", i, err)
		}
		if err := c.SetPaths(context.Background(), nil); err != nil {
			t.Fatalf("try %d: paths: %v", i, err)
		}
		if err := c.Stop(context.Background(), 0); err != nil {
			t.Fatalf("try %d: stop: %v", i, err)
		}
		if !c.Exited() {
			t.Fatalf("try %d: the child has not exited after Stop", i)
		}
	}
}
