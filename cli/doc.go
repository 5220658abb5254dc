// Package cli is the mlcu command tree, built with urfave/cli/v2: one file per command, each
// a package-level *cli.Command. cmd/mlcu only calls Main.
//
// Commands report bad input with one line that names the file and line or the flag, and
// exit with status 1; they write output files through a temporary file renamed into place,
// so that an error never leaves a half-written file behind.
package cli
