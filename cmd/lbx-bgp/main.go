// Command lbx-bgp is lbx watch's BGP speaker process (GoBGP embedded).
// lbx watch starts it when its model has a bgp section and drives it over
// stdin and stdout (package bgpspeaker); it is not meant to be run by
// hand. Its log goes to stderr, which it shares with lbx watch.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/lbx-dev/lbx/bgpspeaker"
	"github.com/lbx-dev/lbx/bgpspeaker/gobgp"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "lbx-bgp takes no arguments: lbx watch runs it for a model with a bgp section")
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "lbx-bgp")
	start := func(ctx context.Context, cfg bgpspeaker.Config) (bgpspeaker.Speaker, error) {
		return gobgp.Start(ctx, cfg, log)
	}
	if err := bgpspeaker.Serve(os.Stdin, os.Stdout, start); err != nil {
		log.Error("lbx-bgp", "err", err)
		os.Exit(1)
	}
}
