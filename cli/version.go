package cli

import (
	"fmt"
	"runtime"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/nn"
)

var versionCommand = &ucli.Command{
	Name:        "version",
	Usage:       "print mlcu's version",
	ArgsUsage:   " ",
	Description: "Prints the version of mlcu, the Go toolchain that built it, the BLAS behind its\nmatrix products (gonum, pure Go; or openblas, built with -tags openblas) and the CUDA\nlibrary built in (none; cuda, built with -tags cuda; cudaemu, the emulation).",
	Action: func(c *ucli.Context) error {
		_, err := fmt.Fprintf(c.App.Writer, "mlcu %s (%s, %s/%s, blas %s, cuda %s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, nn.BLASName(), cuda.BuildName())
		return err
	},
}
