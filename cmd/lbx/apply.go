package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/cmd/lbx/internal/ops"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/internal/progress"
	"github.com/lbx-dev/lbx/plan"
)

func init() {
	var (
		file               string
		autoApprove, prune bool
		lockTimeout        time.Duration
		t                  ops.Target
		output             *Output
	)
	c := &cobra.Command{
		Use:   "apply [-f FILE | PLANFILE]",
		Short: "Make exactly the planned changes to the live kernel",
		Long: `apply plans (like lbx plan), asks for confirmation on a terminal, and makes
exactly those changes, in a safe order, editing in place wherever the kernel
allows. With a saved plan (lbx plan --out) it applies that plan without a
prompt, after checking that the live state has not changed since (exit 3,
"stale", if it has).

Exit codes: 0 done (or nothing to do), 1 error, 3 stale plan, 4 lock held,
5 stopped part-way (the report says what was done; run apply again).`,
		Example: `  lbx apply -f lbx.yaml
  lbx apply -f lbx.yaml --auto-approve -o json
  lbx apply plan.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			prog := newProgress(output.Value)
			defer prog.stop()
			if len(args) == 1 {
				if file != "" {
					return errors.New("give either -f MODEL or a saved PLANFILE, not both")
				}
				if !plan.IsPlanFile(args[0]) {
					return fmt.Errorf("%s is not a saved plan; to apply a model use: lbx apply -f %s", args[0], args[0])
				}
				res, err := ops.ApplySaved(ctx, args[0], t, lockTimeout, prog)
				return report(res, err, output)
			}
			if file == "" {
				return errors.New("give the model with -f FILE, or a saved plan file")
			}
			if handled, res, daemon, err := ops.DelegateToWatch(ctx, file, t, 30*time.Second); handled {
				if err == nil && !output.JSON() {
					fmt.Fprintln(os.Stdout, "lbx watch is running: it reloaded the model as a diff.")
					if len(daemon) > 0 {
						daemonview.WriteText(os.Stdout, "lbx watch applied (objects only the daemon carries out):", daemon)
					}
				}
				return reportAll(res, err, output, daemon)
			}
			m, name, err := ops.LoadView(file, t.Node)
			if err != nil {
				return err
			}
			// No daemon: its objects wait for lbx watch; the note says so.
			dp, err := ops.PlanDaemon(ctx, m, file, name, t)
			if err != nil {
				return err
			}
			if !autoApprove && !cli.IsTerminal(os.Stdin) {
				return cli.Exit(cli.ExitError1, errors.New("no terminal to confirm on: pass --auto-approve, or apply a saved plan (lbx plan --out FILE; lbx apply FILE)"))
			}
			lock, err := ops.Lock(ctx, t, lockTimeout)
			if err != nil {
				return err
			}
			defer lock.Release()
			p, k, owner, err := ops.Plan(ctx, m, t, prune)
			if err != nil {
				return err
			}
			defer k.Close()
			if dp.Note != "" {
				p.Notes = append(p.Notes, dp.Note)
			}
			// Claims on objects found gone are forgotten on disk too,
			// even when there is nothing to do (Execute writes them
			// otherwise).
			if err := owner.Flush(); err != nil {
				slog.Warn("ownership record not updated", "err", err)
			}
			if p.Empty() {
				return report(&apply.Result{Changes: []apply.ChangeResult{}}, nil, output, p.Notes...)
			}
			if !autoApprove {
				plan.WriteText(os.Stdout, p, cli.Color(os.Stdout))
				if !confirm(os.Stdin, os.Stdout) {
					return cli.Exit(cli.ExitError1, errors.New("apply cancelled"))
				}
			} else if !output.JSON() {
				plan.WriteText(os.Stdout, p, cli.Color(os.Stdout))
				fmt.Fprintln(os.Stdout)
			}
			res, err := ops.Execute(ctx, k, p, owner, prog)
			var notes []string // text: printed with the plan above
			if output.JSON() {
				notes = p.Notes
			}
			return report(res, err, output, notes...)
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "model file (YAML)")
	output = OutputFlag(c, applyFormatVersion, "text", "json")
	c.Flags().BoolVar(&autoApprove, "auto-approve", false, "do not ask for confirmation")
	c.Flags().BoolVar(&prune, "prune", false, "also delete IPVS services the model does not declare")
	c.Flags().DurationVar(&lockTimeout, "lock-timeout", 10*time.Second, "how long to wait for another lbx holding the lock")
	targetFlags(c, &t)
	nodeFlag(c, &t.Node)
	addCommand(c)
}

// applyProgress tells whoever watches a long apply what is still running,
// every 10 s of a step (package progress), as Terraform does. On a
// terminal, with -o text, as Terraform's line on stderr, not stdout:
// stdout carries the result (the plan and "Apply complete"), which a
// person may pipe to a file while watching the terminal. Elsewhere (a
// pipe, CI, Ansible, -o json) as an info log record on stderr, as the
// drain's start already is: a log shows the apply is not hung, in the
// log format asked for, and -o json's stdout stays one document.
type applyProgress struct {
	*progress.Reporter
	stop func()
}

func newProgress(output string) applyProgress {
	r := progress.New(progress.Every, nil, progressEmitter(output, cli.IsTerminal(os.Stderr), os.Stderr))
	return applyProgress{Reporter: r, stop: r.Start()}
}

// progressEmitter is where a step still running is told: w (stderr) when
// it is a terminal and the output is text, else the log.
func progressEmitter(output string, terminal bool, w io.Writer) func(step string, elapsed time.Duration) {
	if output == "text" && terminal {
		return func(step string, elapsed time.Duration) {
			fmt.Fprintf(w, "Still %s... [%s elapsed]\n", step, elapsed)
		}
	}
	return func(step string, elapsed time.Duration) {
		slog.Info("still running", "step", step, "elapsed", elapsed.String())
	}
}

func confirm(in io.Reader, out io.Writer) bool {
	fmt.Fprint(out, "\nDo you want to perform these actions? Only 'yes' will be accepted: ")
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// applyDoc is apply's JSON document. Its error (an object, as in every
// failure document) hides the Result's string of the same name.
type applyDoc struct {
	FormatVersion string `json:"format_version"`
	OK            bool   `json:"ok"`
	*apply.Result
	// DaemonChanges is what the reload of a running lbx watch changed in
	// the objects only the daemon carries out (empty without a daemon).
	DaemonChanges []daemonview.Change `json:"daemon_changes"`
	Notes         []string            `json:"notes"`
	Error         *errorJSON          `json:"error,omitempty"`
}

// report prints an apply result and passes the error (with its exit code)
// on. With -o json the document is printed also on failure, with what was
// done before it, so wrappers always have one JSON object to read.
func report(res *apply.Result, err error, output *Output, notes ...string) error {
	return reportAll(res, err, output, nil, notes...)
}

// reportAll is report with the changes a reload made in lbx watch.
func reportAll(res *apply.Result, err error, output *Output, daemon []daemonview.Change, notes ...string) error {
	if output.JSON() {
		if res == nil {
			res = &apply.Result{Changes: []apply.ChangeResult{}}
		}
		doc := applyDoc{FormatVersion: applyFormatVersion, OK: err == nil, Result: res,
			DaemonChanges: append([]daemonview.Change{}, daemon...), Notes: append([]string{}, notes...)}
		if err != nil {
			doc.Error = newErrorJSON(exitParts(err))
		}
		writeJSON(os.Stdout, doc)
		return Reported(err)
	}
	for _, n := range notes {
		fmt.Fprintf(os.Stdout, "Note: %s\n", n)
	}
	if res != nil {
		for _, c := range res.Changes {
			if c.Outcome == apply.Failed {
				fmt.Fprintf(os.Stdout, "failed:  %s: %s\n", c.Address, c.Error)
			} else if c.Outcome == apply.Skipped {
				fmt.Fprintf(os.Stdout, "skipped: %s\n", c.Address)
			}
		}
		if !res.Changed && err == nil {
			fmt.Fprintln(os.Stdout, "No changes. The live state matches the model.")
		} else {
			fmt.Fprintf(os.Stdout, "Apply complete: %d added, %d changed, %d destroyed (%d kernel writes).\n", res.Added, res.Updated, res.Deleted, res.KernelWrites)
			if len(daemon) > 0 {
				add, change, destroy := daemonview.Counts(daemon)
				fmt.Fprintf(os.Stdout, "lbx watch: %d added, %d changed, %d destroyed.\n", add, change, destroy)
			}
		}
	}
	return err
}
