package cli

import (
	"fmt"
	"runtime"

	ucli "github.com/urfave/cli/v2"
)

var versionCommand = &ucli.Command{
	Name:        "version",
	Usage:       "print mlcu's version",
	ArgsUsage:   " ",
	Description: "Prints the version of mlcu and of the Go toolchain that built it.",
	Action: func(c *ucli.Context) error {
		_, err := fmt.Fprintf(c.App.Writer, "mlcu %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return err
	},
}
