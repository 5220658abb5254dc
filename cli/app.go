package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/internal/atomicfile"
	"github.com/mlcu/mlcu/lens"
)

// Version is mlcu's version, set at link time with -ldflags "-X github.com/mlcu/mlcu/cli.Version=…".
var Version = "0.1.0-dev"

// NewApp returns the mlcu application writing to stdout and stderr. Errors are returned by
// its Run method, not handled: Main prints them and sets the exit status.
func NewApp(stdout, stderr io.Writer) *ucli.App {
	return &ucli.App{
		Name:    "mlcu",
		Usage:   "binary-lens gravitational microlensing: magnifications, light curves, maps",
		Version: Version,
		Description: "mlcu computes binary-lens (2L1S) microlensing magnifications, light curves and\n" +
			"magnification maps in the frame of VBBinaryLensing (centre of mass at the origin,\n" +
			"lengths in Einstein radii of the total mass; see the README for the conventions).",
		Commands: []*ucli.Command{
			magnifyCommand,
			lightcurveCommand,
			mapCommand,
			demoCommand,
			simulateCommand,
			trainCommand,
			sampleCommand,
			evalCommand,
			fitCommand,
			benchCommand,
			devicesCommand,
			versionCommand,
			devLogProbCommand,
		},
		Suggest:              true,
		EnableBashCompletion: true,
		// fit's repeatable --lc FILE,mag carries its unit after a comma: a slice flag must
		// not split its values on commas.
		DisableSliceFlagSeparator: true,
		HideVersion:               false,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		// Leave exit handling to Main so that the app can run in-process in tests.
		ExitErrHandler: func(*ucli.Context, error) {},
	}
}

// Main runs mlcu on os.Args and exits with status 1 after printing the error, if any.
func Main() {
	if err := NewApp(os.Stdout, os.Stderr).Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "mlcu:", err)
		code := 1
		var ec ucli.ExitCoder
		if errors.As(err, &ec) && ec.ExitCode() != 0 {
			code = ec.ExitCode()
		}
		os.Exit(code)
	}
}

// fail returns the one-line error of a command, leaving through cli.Exit with status 1.
func fail(cmd, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	msg = strings.ReplaceAll(msg, "\n", " ")
	return ucli.Exit(cmd+": "+msg, 1)
}

// Shared flag definitions.

func tolFlag() *ucli.Float64Flag {
	return &ucli.Float64Flag{
		Name:    "tol",
		Usage:   "relative accuracy goal `TOL` of finite-source magnifications",
		Value:   lens.DefaultTol,
		EnvVars: []string{"MLCU_TOL"},
	}
}

func workersFlag() *ucli.IntFlag {
	return &ucli.IntFlag{
		Name:        "workers",
		Usage:       "`N` parallel workers (goroutines)",
		Value:       runtime.NumCPU(),
		DefaultText: "number of CPUs",
		EnvVars:     []string{"MLCU_WORKERS"},
	}
}

// noArgs rejects positional arguments: every command takes flags only.
func noArgs(c *ucli.Context, cmd string) error {
	if c.NArg() > 0 {
		return fail(cmd, "unexpected argument %q: this command takes flags only (see 'mlcu help %s')", c.Args().First(), cmd)
	}
	return nil
}

// checkTol validates the --tol flag.
func checkTol(cmd string, tol float64) error {
	if !(tol > 0) || math.IsInf(tol, 0) {
		return fail(cmd, "--tol = %v must be a positive finite number", tol)
	}
	return nil
}

// checkWorkers validates the --workers flag.
func checkWorkers(cmd string, n int) error {
	if n < 1 {
		return fail(cmd, "--workers = %d must be at least 1", n)
	}
	return nil
}

// checkFinite validates a float flag that must be finite.
func checkFinite(cmd, flag string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fail(cmd, "--%s = %v must be finite", flag, v)
	}
	return nil
}

// parseFloats parses n comma-separated finite numbers given to --flag.
func parseFloats(cmd, flag, s string, n int) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, fail(cmd, "--%s = %q: want %d comma-separated numbers", flag, s, n)
	}
	v := make([]float64, n)
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fail(cmd, "--%s = %q: %q is not a finite number", flag, s, p)
		}
		v[i] = x
	}
	return v, nil
}

// writeFile writes path atomically (see internal/atomicfile), with a command-prefixed error.
func writeFile(cmd, path string, write func(io.Writer) error) error {
	if err := atomicfile.WriteFile(path, 0o644, write); err != nil {
		return fail(cmd, "writing %s: %v", path, err)
	}
	return nil
}

// formatFloat formats v with the shortest representation that reads back as v.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
