// Command mlcu is the binary-lens microlensing tool; see package cli for its commands.
package main

import "github.com/mlcu/mlcu/cli"

func main() { cli.Main() }
