package bgpspeaker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/lbx-dev/lbx/internal/sibling"
)

// Binary is the speaker process's file name.
const Binary = "lbx-bgp"

// Find locates lbx-bgp: next to the running lbx first, then on PATH.
func Find() (string, error) {
	if p, ok := sibling.Find(Binary); ok {
		return p, nil
	}
	return "", errors.New(Binary + " (lbx's BGP speaker) is neither next to lbx nor on PATH; make build puts it in bin/")
}

// Client is a running lbx-bgp. Its methods are safe for concurrent use
// (one request at a time).
type Client struct {
	cmd *exec.Cmd
	// exited is closed once the child has exited (reaped by the goroutine
	// that started it).
	exited chan struct{}
	in     io.WriteCloser
	// outFile is the read end of the child's stdout, closed once the
	// child has exited and its replies were read; out scans it.
	outFile *os.File
	out     *bufio.Scanner
	log     *slog.Logger
	mu      sync.Mutex
	dead    error
}

// Start runs the binary at path and starts its speaker with cfg. The
// child dies with lbx watch (SIGKILL as parent-death signal): a killed
// director's sessions close at once. Its stderr (GoBGP's log) is lbx's.
func Start(ctx context.Context, path string, cfg Config, log *slog.Logger) (*Client, error) {
	cmd := exec.Command(path)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Not StdoutPipe: Wait closes that pipe as soon as the child exits,
	// which can be before the parent read the child's last reply (the
	// stop's): "read |0: file already closed".
	out, outW, err := os.Pipe()
	if err != nil {
		in.Close()
		return nil, err
	}
	cmd.Stdout = outW
	// The parent-death signal follows the thread that started the child,
	// not the process: that thread stays locked, and alive, until the
	// child exits.
	started, exited := make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			cmd.Wait()
		}
		close(exited)
	}()
	err = <-started
	outW.Close() // the child's now: EOF once it exits
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	c := &Client{cmd: cmd, exited: exited, in: in, outFile: out, out: bufio.NewScanner(out), log: log}
	c.out.Buffer(make([]byte, 64<<10), maxLine)
	if _, err := c.call(ctx, request{Op: "start", Config: &cfg}); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// call sends one request and reads its reply. ctx bounds the wait: a
// speaker that does not answer is killed (its sessions close).
func (c *Client) call(ctx context.Context, req request) (reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead != nil {
		return reply{}, c.dead
	}
	b, err := json.Marshal(req)
	if err != nil {
		return reply{}, err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			// A caller's cancel after the answer is no timeout: done is
			// closed before any deferred cancel runs.
			select {
			case <-done:
			default:
				c.cmd.Process.Kill()
			}
		case <-done:
		}
	}()
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		return reply{}, c.died(err)
	}
	if !c.out.Scan() {
		return reply{}, c.died(c.out.Err())
	}
	var rep reply
	if err := json.Unmarshal(c.out.Bytes(), &rep); err != nil {
		return reply{}, c.died(err)
	}
	if rep.Error != "" {
		return rep, errors.New(rep.Error)
	}
	return rep, nil
}

// died records that the child is gone (or talks nonsense) and reaps it.
func (c *Client) died(err error) error {
	if err == nil {
		err = io.EOF
	}
	c.dead = fmt.Errorf("%s died: %w", Binary, err)
	c.kill()
	return c.dead
}

func (c *Client) kill() {
	c.cmd.Process.Kill()
	<-c.exited
	c.outFile.Close()
}

// Exited says whether the child has exited (crashed, or was killed): the
// caller starts another.
func (c *Client) Exited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// Configure: see Speaker.
func (c *Client) Configure(ctx context.Context, cfg Config) ([]netip.Addr, error) {
	rep, err := c.call(ctx, request{Op: "configure", Config: &cfg})
	return rep.Reset, err
}

// SetPaths: see Speaker.
func (c *Client) SetPaths(ctx context.Context, paths []Path) error {
	if paths == nil {
		paths = []Path{}
	}
	_, err := c.call(ctx, request{Op: "paths", Paths: paths})
	return err
}

// Peers: see Speaker. A speaker that does not answer in 2 s shows none.
func (c *Client) Peers(ctx context.Context) []PeerStatus {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	rep, err := c.call(ctx, request{Op: "peers"})
	if err != nil {
		return nil
	}
	return rep.Peers
}

// Stop withdraws (after the graceful wait), closes the sessions and waits
// for the child to exit.
func (c *Client) Stop(ctx context.Context, graceful time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, graceful+10*time.Second)
	defer cancel()
	_, err := c.call(ctx, request{Op: "stop", Graceful: graceful})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead == nil {
		c.dead = errors.New("the BGP speaker is stopped")
		c.in.Close()
		select {
		case <-c.exited:
			c.outFile.Close()
		case <-time.After(5 * time.Second):
			c.kill()
		}
	}
	return err
}
