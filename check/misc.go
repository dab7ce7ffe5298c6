package check

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/lbx-dev/lbx/internal/script"
)

// Misc is MISC_CHECK: run a command; exit 0 is up, anything else down.
// With Dynamic (misc_dynamic), exit 1 is down and 2..255 is up with weight
// code − 2. The command runs in its own process group; at the deadline the
// whole group is killed (SIGKILL), so a script that never exits, or that
// leaves children holding its output open, cannot hold the check.
type Misc struct {
	Args    []string // argv; Args[0] is the program
	Timeout time.Duration
	Dynamic bool
	// User runs the command as that user (misc user, or the default
	// script user).
	User *script.User
}

// Check implements Checker.
func (m *Misc) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withDeadline(ctx, m.Timeout)
	defer cancel()
	_, err := script.Run(ctx, m.Args, script.Options{User: m.User})
	code := 0
	if err != nil {
		var ee *exec.ExitError
		switch {
		case errors.Is(err, script.ErrTimeout):
			return down(start, "timed out after %s", m.Timeout)
		case errors.Is(err, script.ErrStopped):
			return down(start, "stopped before it ended")
		case !errors.As(err, &ee):
			return down(start, "%v", err)
		case !ee.Exited():
			return down(start, "killed by %v", ee.Sys().(syscall.WaitStatus).Signal())
		}
		code = ee.ExitCode()
	}
	switch {
	case code == 0:
		return up(start)
	case m.Dynamic && code >= 2:
		r := up(start)
		w := code - 2
		r.Weight = &w
		return r
	}
	return down(start, "exit status %d", code)
}

// SplitCommand splits a misc_path command line as keepalived does: words
// are separated by spaces and tabs; double quotes group words (and are
// removed); inside double quotes a backslash escapes " and \. There is no
// other shell syntax: no variables, globs or single-quote grouping.
func SplitCommand(s string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inWord  bool
		inQuote bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote = !inQuote
			inWord = true
		case !inQuote && (c == ' ' || c == '\t'):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("command %q: unterminated double quote", s)
	}
	if inWord {
		args = append(args, cur.String())
	}
	if len(args) == 0 || args[0] == "" {
		return nil, fmt.Errorf("command %q: no program to run", s)
	}
	return args, nil
}
