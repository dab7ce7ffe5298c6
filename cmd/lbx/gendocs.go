//go:build lbxdocs

package main

// gen-docs exists only in the docs build (go build -tags lbxdocs; make man
// builds it into a temporary binary): the shipped lbx does not carry the
// man page generator.

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/manpage"
)

func init() {
	var dir string
	c := &cobra.Command{
		Use:    "gen-docs --man-dir DIR",
		Short:  "Write lbx(1) and a man page per subcommand to DIR",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			date, err := sourceDate()
			if err != nil {
				return err
			}
			exit := make([]manpage.ExitStatus, len(cli.ExitCodes))
			for i, e := range cli.ExitCodes {
				exit[i] = manpage.ExitStatus{Code: e.Code, Meaning: e.Meaning}
			}
			files, err := manpage.Write(cmd.Root(), manpage.Options{
				Dir: dir, Date: date, Source: "lbx " + version, Manual: "lbx Manual",
				Exit: exit, SeeAlso: []string{"lbx.yaml(5)"},
			})
			for _, f := range files {
				fmt.Println(f)
			}
			return err
		},
	}
	c.Flags().StringVar(&dir, "man-dir", "", "directory for the pages")
	c.MarkFlagRequired("man-dir")
	addCommand(c)
}

// sourceDate is the pages' date: SOURCE_DATE_EPOCH (the reproducible-builds
// convention; make man sets it to the last commit's time), else now.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Now(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970: %w", s, err)
	}
	return time.Unix(n, 0), nil
}
