package cli

import (
	"errors"
	"fmt"

	"github.com/mlcu/mlcu/device"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/cuda"
)

var devicesCommand = &ucli.Command{
	Name:      "devices",
	Usage:     "list the GPUs and say which backend --device auto takes",
	ArgsUsage: " ",
	Description: `Lists the NVIDIA GPUs the driver reports (NVML: name, memory, compute capability;
driver version), the CUDA library this mlcu was built with (cuda, cudaemu or none), the
devices the CUDA runtime sees, and the backend '--device auto' picks, with the reason.
A machine without a GPU or driver gets one line saying so; that is not an error.`,
	Action: func(c *ucli.Context) error {
		if err := noArgs(c, "devices"); err != nil {
			return err
		}
		w := c.App.Writer
		gpus, driver, cudaVer, err := cuda.NVMLDevices()
		if err != nil {
			fmt.Fprintf(w, "nvml: no NVIDIA GPU driver found (%v)\n", err)
		} else {
			fmt.Fprintf(w, "nvml: driver %s, CUDA %d.%d, %d GPU(s)\n", driver, cudaVer/1000, cudaVer%1000/10, len(gpus))
			for _, g := range gpus {
				fmt.Fprintf(w, "  gpu %d: %s, %.1f GiB, compute capability %d.%d\n", g.Index, g.Name, float64(g.TotalMem)/(1<<30), g.CCMajor, g.CCMinor)
			}
		}
		fmt.Fprintf(w, "build: cuda library %s\n", cuda.BuildName())
		if cuda.Available() {
			ds, err := cuda.Devices()
			if err != nil {
				fmt.Fprintf(w, "cuda runtime: no device (%v)\n", err)
			}
			for _, d := range ds {
				fmt.Fprintf(w, "cuda runtime: device %d: %s, sm_%d%d, %d SMs, %.1f GiB\n", d.Index, d.Name, d.CCMajor, d.CCMinor, d.SMs, float64(d.TotalMem)/(1<<30))
			}
		}
		ch, err := cuda.Choose("auto")
		if err != nil {
			return fail("devices", "%v", err)
		}
		fmt.Fprintf(w, "--device auto: %s\n", ch.Reason)
		return nil
	},
}

// deviceFlag is the --device flag of the commands that can run on the GPU.
func deviceFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "device", Usage: "`DEVICE`: auto, cpu or cuda (see 'mlcu devices')", Value: "auto", EnvVars: []string{"MLCU_DEVICE"}}
}

// chooseDevice resolves --device for cmd and logs the choice on the error stream, unless
// the command was given --quiet.
func chooseDevice(c *ucli.Context, cmd string) (device.Backend, error) {
	b, err := resolveDevice(c, cmd)
	if err == nil && !c.Bool("quiet") {
		fmt.Fprintf(c.App.ErrWriter, "%s: device %s\n", cmd, b.Reason)
	}
	return b, err
}

// resolveDevice is chooseDevice without the log line, for commands that log through their
// progress reporter (which --quiet silences).
func resolveDevice(c *ucli.Context, cmd string) (device.Backend, error) {
	dev := c.String("device")
	b, err := device.Choose(dev)
	var bad *cuda.DeviceFlagError
	switch {
	case errors.As(err, &bad):
		return b, fail(cmd, "%v", err)
	case err != nil:
		return b, fail(cmd, "--device %s: %v", dev, err)
	}
	return b, nil
}
