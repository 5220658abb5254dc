package cli

import (
	"fmt"
	"runtime"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/nn"
)

var versionCommand = &ucli.Command{
	Name:        "version",
	Usage:       "print mlcu's version",
	ArgsUsage:   " ",
	Description: "Prints the version of mlcu, the Go toolchain that built it and the BLAS behind its\nmatrix products (gonum, pure Go; or openblas, built with -tags openblas).",
	Action: func(c *ucli.Context) error {
		_, err := fmt.Fprintf(c.App.Writer, "mlcu %s (%s, %s/%s, blas %s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, nn.BLASName())
		return err
	},
}
