package cli

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/internal/figure"
	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/lens"
)

var mapCommand = &ucli.Command{
	Name:      "map",
	Usage:     "draw a ray-shooting magnification map of a binary lens",
	ArgsUsage: " ",
	Description: `Shoots rays through the lens plane of the binary (s, q) and counts them in the pixels
of the source-plane rectangle --region, which gives the point-source magnification A per
pixel. Writes a PNG of log10 A with the caustics and lenses drawn over it, and the map
itself as a NumPy .npy file of float64 A with shape (ny, nx): row j holds
y2 = y0 + (j+1/2)(y1-y0)/ny (row 0 at the bottom), column i holds y1 = x0 + (i+1/2)(x1-x0)/nx.
Pixels are square: --res is the number of pixels along the longer side of the region.
The default region is the box around all caustics, widened by a quarter of its size.

Example:
   mlcu map --s 1.1 --q 0.1 --res 600 --rays 200 --out map.png   # also writes map.npy
   python -c "import numpy as np; print(np.load('map.npy').shape)"

With --device cuda the rays are shot on the GPU (cuda.RayShootMap): the same lattice of
rays, so the same counts as the CPU's (on amd64).`,
	Flags: []ucli.Flag{
		&ucli.Float64Flag{Name: "s", Usage: "lens separation `S` (Einstein radii of the total mass)", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_S"}},
		&ucli.Float64Flag{Name: "q", Usage: "mass ratio `Q` = m2/m1", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_Q"}},
		&ucli.StringFlag{Name: "region", Usage: "source-plane rectangle `X0,X1,Y0,Y1` (Einstein radii; default: around the caustics)", EnvVars: []string{"MLCU_MAP_REGION"}},
		&ucli.IntFlag{Name: "res", Usage: "pixels `N` along the longer side of the region", Value: 400, EnvVars: []string{"MLCU_MAP_RES"}},
		&ucli.Float64Flag{Name: "rays", Usage: "rays `R` per pixel for unit magnification (noise ~ 1/sqrt(R A))", Value: 100, EnvVars: []string{"MLCU_MAP_RAYS"}},
		workersFlag(),
		deviceFlag(),
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output PNG `FILE` (required)", Required: true, TakesFile: true, EnvVars: []string{"MLCU_MAP_OUT"}},
		&ucli.StringFlag{Name: "npy", Usage: "output .npy `FILE` of A (default: --out with extension .npy)", TakesFile: true, EnvVars: []string{"MLCU_MAP_NPY"}},
	},
	Action: runMap,
}

// Limits of the map flags.
const (
	maxMapRes        = 20000
	maxMapRays       = 1e6  // rays per pixel; lens counts rays in uint32 (A·rays < 4e9)
	maxRaysPerSide   = 1e12 // lens.RayShootMap refuses grids beyond 2^44 rays per side
	causticPointsMap = 2048
)

func runMap(c *ucli.Context) error {
	const cmd = "map"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	s, q := c.Float64("s"), c.Float64("q")
	if err := lens.ValidateBinary(s, q); err != nil {
		return fail(cmd, "bad lens flag: %v", err)
	}
	res, rays, workers := c.Int("res"), c.Float64("rays"), c.Int("workers")
	if res < 2 || res > maxMapRes {
		return fail(cmd, "--res = %d must be between 2 and %d", res, maxMapRes)
	}
	if !(rays > 0) || rays > maxMapRays {
		return fail(cmd, "--rays = %v must be positive and at most %g", rays, maxMapRays)
	}
	if err := checkWorkers(cmd, workers); err != nil {
		return err
	}
	out := c.String("out")
	if !strings.EqualFold(filepath.Ext(out), ".png") {
		return fail(cmd, "--out %s: the map is a PNG image: give a FILE ending in .png", out)
	}
	npyPath := c.String("npy")
	if npyPath == "" {
		npyPath = strings.TrimSuffix(out, filepath.Ext(out)) + ".npy"
	}
	if !strings.EqualFold(filepath.Ext(npyPath), ".npy") {
		return fail(cmd, "--npy %s: give a FILE ending in .npy", npyPath)
	}
	if npyPath == out {
		return fail(cmd, "--npy and --out are the same file %s", out)
	}
	b := lens.NewBinary(s, q)
	curves := b.Caustics(causticPointsMap)
	var reg [4]float64
	if r := c.String("region"); r != "" {
		v, err := parseFloats(cmd, "region", r, 4)
		if err != nil {
			return err
		}
		copy(reg[:], v)
		if !(reg[1] > reg[0]) || !(reg[3] > reg[2]) {
			return fail(cmd, "--region = %q: need x0 < x1 and y0 < y1", r)
		}
	} else {
		reg = defaultRegion(b, curves)
	}
	nx, ny := mapPixels(reg, res)
	if side := imageGridSide(b, reg, nx, ny, rays); side > maxRaysPerSide {
		return fail(cmd, "--region %g,%g,%g,%g with --res %d and --rays %g needs an image-plane grid of %.3g rays per side, more than %.3g: use a larger region or fewer rays",
			reg[0], reg[1], reg[2], reg[3], res, rays, side, float64(maxRaysPerSide))
	}
	ch, err := chooseDevice(c, cmd)
	if err != nil {
		return err
	}
	m, err := ch.RayShootMap(b, reg[0], reg[1], reg[2], reg[3], nx, ny, rays, workers)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	if err := writeFile(cmd, npyPath, func(w io.Writer) error { return npy.Write(w, m.A, m.NY, m.NX) }); err != nil {
		return err
	}
	fig := figure.MagMap{Map: m, Caustics: curves,
		Title: fmt.Sprintf("log10 A, s=%.4g q=%.3g, %d×%d px, %.3g rays/px", s, q, nx, ny, rays)}
	return writeFile(cmd, out, fig.WritePNG)
}

// defaultRegion returns the box around all caustics (and the lenses when there is no
// caustic point), widened by a quarter of its larger side on every side.
func defaultRegion(b lens.Binary, curves []lens.Curve) [4]float64 {
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, cv := range curves {
		for _, w := range cv.Caustic {
			x0, x1 = math.Min(x0, real(w)), math.Max(x1, real(w))
			y0, y1 = math.Min(y0, imag(w)), math.Max(y1, imag(w))
		}
	}
	if math.IsInf(x0, 0) {
		x0, x1, y0, y1 = b.X1, b.X2, 0, 0
	}
	span := math.Max(math.Max(x1-x0, y1-y0), 1e-6)
	pad := 0.25 * span
	return [4]float64{x0 - pad, x1 + pad, y0 - pad, y1 + pad}
}

// mapPixels returns the pixel counts for square pixels with res along the longer side.
func mapPixels(reg [4]float64, res int) (nx, ny int) {
	w, h := reg[1]-reg[0], reg[3]-reg[2]
	if w >= h {
		return res, max(1, int(math.Round(float64(res)*h/w)))
	}
	return max(1, int(math.Round(float64(res)*w/h))), res
}

// imageGridSide estimates the number of rays per side of the image-plane grid that
// lens.RayShootMap lays for this map: the grid covers |z| ≤ R* (see its documentation) with
// a ray spacing of sqrt(pixel area / rays).
func imageGridSide(b lens.Binary, reg [4]float64, nx, ny int, rays float64) float64 {
	dx, dy := (reg[1]-reg[0])/float64(nx), (reg[3]-reg[2])/float64(ny)
	h := math.Sqrt(dx * dy / rays)
	ymax := math.Hypot(math.Max(math.Abs(reg[0]), math.Abs(reg[1])), math.Max(math.Abs(reg[2]), math.Abs(reg[3])))
	xm := math.Max(math.Abs(b.X1), math.Abs(b.X2))
	rstar := ((ymax + xm) + math.Sqrt((ymax-xm)*(ymax-xm)+4)) / 2
	return 2 * rstar / h
}
