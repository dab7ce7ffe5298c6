package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Output is a command's -o/--output flag. Its value is checked when the
// flag is parsed, so every command refuses an unknown format alike (exit
// 1, one error naming the formats it prints) and none has a check of its
// own to forget.
type Output struct {
	Value   string
	allowed []string
	// Version is the format_version of the command's JSON document; a
	// failure document (-o json) carries it too.
	Version any
}

// OutputFlag registers -o/--output on c: def is the default, allowed the
// formats c prints (def first), version its JSON document's format_version.
func OutputFlag(c *cobra.Command, version any, def string, allowed ...string) *Output {
	o := &Output{Value: def, allowed: append([]string{def}, allowed...), Version: version}
	c.Flags().VarP(o, "output", "o", "output format: "+o.formats())
	return o
}

// OutputOf returns c's -o flag, or nil when c has none. args is the
// command line as given: when parsing stopped before -o (a bad flag
// earlier), the value is read from it, so that the failure document is
// still written in the format asked for.
func OutputOf(c *cobra.Command, args []string) *Output {
	if c == nil {
		return nil
	}
	f := c.Flags().Lookup("output")
	if f == nil {
		return nil
	}
	o, ok := f.Value.(*Output)
	if !ok {
		return nil
	}
	if !f.Changed {
		if v, found := lastFlagValue(args, "output", "o"); found && slices.Contains(o.allowed, v) {
			o.Value = v
		}
	}
	return o
}

// JSON reports whether the JSON document was asked for.
func (o *Output) JSON() bool { return o != nil && o.Value == "json" }

func (o *Output) String() string { return o.Value }

// Type names the value in --help.
func (o *Output) Type() string { return "format" }

// Set refuses a format the command does not print.
func (o *Output) Set(s string) error {
	if !slices.Contains(o.allowed, s) {
		return fmt.Errorf("want %s", o.formats())
	}
	o.Value = s
	return nil
}

func (o *Output) formats() string {
	return strings.Join(o.allowed[:len(o.allowed)-1], ", ") + " or " + o.allowed[len(o.allowed)-1]
}

// reportedError marks an error whose -o json document the command has
// already written (with ok false and the error): main writes no second one.
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

// Reported marks err as told in the command's own JSON document.
func Reported(err error) error {
	if err == nil {
		return nil
	}
	return reportedError{err}
}

// IsReported reports whether err was marked by Reported.
func IsReported(err error) bool {
	var r reportedError
	return errors.As(err, &r)
}

// lastFlagValue is the value of the last --long or -short flag in args
// before "--", in any of the spellings pflag accepts (--long v, --long=v,
// -s v, -s=v, -sv).
func lastFlagValue(args []string, long, short string) (value string, found bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		var rest string
		switch {
		case strings.HasPrefix(a, "--"):
			name, v, hasValue := strings.Cut(a[2:], "=")
			if name != long {
				continue
			}
			if hasValue {
				value, found = v, true
				continue
			}
		case short != "" && strings.HasPrefix(a, "-"+short):
			rest = strings.TrimPrefix(strings.TrimPrefix(a, "-"+short), "=")
			if rest != "" {
				value, found = rest, true
				continue
			}
		default:
			continue
		}
		if i+1 < len(args) {
			i++
			value, found = args[i], true
		}
	}
	return value, found
}
