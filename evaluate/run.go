package evaluate

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/rng"
)

// File names in an evaluation's output directory.
const (
	SettingsFile = "eval.json"   // what was evaluated, for resuming
	EventsFile   = "events.csv"  // one row per event: truth, modes, intervals, ranks
	SummaryFile  = "summary.csv" // one row per parameter
	CoverageFile = "coverage.csv"
	ReportFile   = "report.md"
)

// Config is one evaluation.
type Config struct {
	Model   *infer.Model
	Sampler infer.Sampler // of Model.Net
	Data    *dataset.Dataset
	DataDir string // for messages and the settings file
	N       int    // events: the first N of Data
	Samples int    // posterior samples per event (K)
	Seed    uint64 // of the noise drawn on each event and of the posterior draws
	Batch   int    // events per sampler call; 16 when 0 (results depend on it: it is a setting)
	Out     string // the output directory
	Force   bool   // start over in an Out that holds another evaluation
	// AsLightCurve feeds each event through the path of a user's light curve (mlcu sample
	// --lc): its noisy window in an arbitrary flux unit, at times starting at an arbitrary
	// date, read by infer.LightCurveInput — to show that the model sees simulated and real
	// inputs alike (one normalisation).
	AsLightCurve bool
	// Progress, when set, is called after each batch with the events done and the total.
	Progress func(done, total int)
}

// Settings identify an evaluation: an Out holding other settings is refused.
type Settings struct {
	Model   string `json:"model"`
	Data    string `json:"data"`
	N       int    `json:"n"`
	Samples int    `json:"samples"`
	Seed    uint64 `json:"seed"`
	Batch   int    `json:"batch"`
	AsLC    bool   `json:"as_light_curve,omitempty"`
}

// EventResult is one test event's evaluation.
type EventResult struct {
	Index    int
	Accepted float64       // share of the flow's draws inside the prior's support
	TARP     float64       // the TARP score of the event
	Params   []ParamResult // per free parameter, in the model's order
}

// Run evaluates the model on the first N events of the dataset, writing EventsFile after
// every batch (so an interrupted run resumes where it stopped, with the same results) and,
// at the end, the report (WriteReport). The dataset's prior must be the model's.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	m := cfg.Model
	st := m.Standardizer
	var names []string // the parameters' names: s, q, alpha, u0, t0, tE, rho
	for _, c := range st.Coords {
		names = append(names, c.Name)
	}
	settings := Settings{Model: m.Dir, Data: cfg.DataDir, N: cfg.N, Samples: cfg.Samples, Seed: cfg.Seed, Batch: cfg.Batch, AsLC: cfg.AsLightCurve}
	done, err := prepareOut(cfg.Out, settings, names, cfg.Force)
	if err != nil {
		return nil, err
	}
	byIndex := map[int]EventResult{}
	for _, r := range done {
		byIndex[r.Index] = r
	}
	axes, priors := Axes(st, cfg.Data.Prior())
	mc := m.Net.Config
	L, D, K := mc.Featurizer.L, mc.Flow.D, cfg.Samples
	sampleSeed := dataset.DeriveSeed(cfg.Seed, "eval/sample")
	tarpSeed := dataset.DeriveSeed(cfg.Seed, "eval/tarp")
	start := time.Now()
	var results []EventResult
	for b := 0; b*cfg.Batch < cfg.N; b++ {
		lo, hi := b*cfg.Batch, min(cfg.N, (b+1)*cfg.Batch)
		complete := true
		for i := lo; i < hi; i++ {
			if _, ok := byIndex[i]; !ok {
				complete = false
			}
		}
		if complete {
			for i := lo; i < hi; i++ {
				results = append(results, byIndex[i])
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		E := hi - lo
		xb := make([]float32, E*L)
		truths := make([][]float64, E)
		for e := range E {
			x, p, err := infer.DatasetInput(cfg.Data, lo+e, cfg.Seed)
			if err != nil {
				return nil, fmt.Errorf("%s: event %d: %v", cfg.DataDir, lo+e, err)
			}
			if cfg.AsLightCurve {
				if x, err = asLightCurve(x); err != nil {
					return nil, fmt.Errorf("%s: event %d as a light curve: %v", cfg.DataDir, lo+e, err)
				}
			}
			event.NetworkInput(xb[e*L:(e+1)*L], x, mc.Bin)
			truths[e] = st.Forward(p)
		}
		out := make([]float32, E*K*D)
		if err := cfg.Sampler.Draw(out, xb, K, sampleSeed, uint64(b)); err != nil {
			return nil, err
		}
		for e := range E {
			i := lo + e
			ys, acc, err := keepInSupport(cfg.Sampler, st, out[e*K*D:(e+1)*K*D], xb[e*L:(e+1)*L], K, D, sampleSeed, i)
			if err != nil {
				return nil, fmt.Errorf("event %d: %v", i, err)
			}
			ref := make([]float64, D)
			rs := rng.New(tarpSeed, uint64(i))
			for j := range ref {
				ref[j] = rs.Between(-1, 1)
			}
			r := EventResult{Index: i, Accepted: acc, TARP: TARPScore(ys, truths[e], ref)}
			xs := make([]float64, K)
			for j := range D {
				a := axes[j]
				for k := range K {
					xs[k] = toCoord(a, ys[k*D+j])
				}
				r.Params = append(r.Params, Analyse(xs, toCoord(a, truths[e][j]), a, priors[j]))
			}
			results = append(results, r)
		}
		if err := writeEvents(filepath.Join(cfg.Out, EventsFile), names, results); err != nil {
			return nil, err
		}
		if cfg.Progress != nil {
			cfg.Progress(hi, cfg.N)
		}
	}
	res := &Results{Names: names, Events: results, Samples: K, Elapsed: time.Since(start)}
	return res, nil
}

// Flux unit and start time of AsLightCurve's light curves: a flux scale of no meaning
// (counts of some telescope) and an HJD − 2450000 of the Roman era.
const (
	lcFluxUnit = 1234.5
	lcStart    = 11000.25
)

// asLightCurve returns the model input of the normalised window x read as a light curve:
// fluxes lcFluxUnit·x at times lcStart + 0.01 j, errors 1% of the unit.
func asLightCurve(x []float32) ([]float32, error) {
	lc := infer.LightCurve{T: make([]float64, len(x)), Flux: make([]float64, len(x)), Err: make([]float64, len(x))}
	for j, v := range x {
		lc.T[j] = lcStart + float64(j)*event.Cadence
		lc.Flux[j] = lcFluxUnit * float64(v)
		lc.Err[j] = 0.01 * lcFluxUnit
	}
	return infer.LightCurveInput(lc)
}

func checkConfig(cfg *Config) error {
	if cfg.Model == nil || cfg.Sampler == nil || cfg.Data == nil {
		return errors.New("evaluate: Config needs Model, Sampler and Data")
	}
	if cfg.Batch == 0 {
		cfg.Batch = 16
	}
	if cfg.N < 1 || cfg.N > cfg.Data.Len() {
		return fmt.Errorf("--n %d: the dataset %s holds %d events", cfg.N, cfg.DataDir, cfg.Data.Len())
	}
	if cfg.Samples < 10 {
		return fmt.Errorf("--samples %d: want at least 10", cfg.Samples)
	}
	if cfg.Batch < 1 {
		return fmt.Errorf("batch %d: want at least 1", cfg.Batch)
	}
	// The model's standardiser is a function of the prior it was trained on: the dataset's
	// prior must give the same one, or the truths are not draws of the model's prior.
	want, err1 := json.Marshal(cfg.Model.Standardizer)
	got, err2 := json.Marshal(event.NewStandardizer(cfg.Data.Prior()))
	if err1 != nil || err2 != nil || string(want) != string(got) {
		return fmt.Errorf("%s: the dataset's prior is not the prior the model %s was trained on (their standardisers differ): evaluate on a dataset simulated from the model's prior", cfg.DataDir, cfg.Model.Dir)
	}
	return nil
}

// Axes returns the KDE axis and the prior's marginal density (in the model's coordinate)
// of each free parameter of st, whose prior is p.
func Axes(st event.Standardizer, p event.Prior) ([]Axis, []func(float64) float64) {
	var axes []Axis
	var dens []func(float64) float64
	for _, c := range st.Coords {
		periodic := c.Name == "alpha" && !c.Log10 && c.Bounded && math.Abs((c.Hi-c.Lo)-2*math.Pi) < 1e-9
		axes = append(axes, Axis{Lo: c.Lo, Hi: c.Hi, Bounded: c.Bounded, Periodic: periodic})
		dens = append(dens, func(u float64) float64 { return p.CoordDensity(c, u) })
	}
	return axes, dens
}

// toCoord maps a standardised value to the model's coordinate on axis a.
func toCoord(a Axis, y float64) float64 { return 0.5*(a.Lo+a.Hi) + 0.5*(a.Hi-a.Lo)*y }

// keepInSupport returns K standardised draws of event i inside the prior's support (α
// wrapped), starting from the draws (K × D) and topping up with further rounds of the
// sampler for this event alone; and the share of the draws that were inside. As
// infer.Model.Posterior, it gives up when fewer than infer.MinAccepted of at least 1000
// draws are inside.
func keepInSupport(s infer.Sampler, st event.Standardizer, draws, xb []float32, K, D int, seed uint64, i int) ([]float64, float64, error) {
	ys := make([]float64, 0, K*D)
	y := make([]float64, D)
	drawn, inside := 0, 0
	take := func(out []float32) {
		for k := range len(out) / D {
			for j := range D {
				y[j] = float64(out[k*D+j])
			}
			drawn++
			st.WrapPeriodic(y)
			if !st.InSupport(y) {
				continue
			}
			inside++
			if len(ys) < K*D {
				ys = append(ys, y...)
			}
		}
	}
	take(draws)
	for r := uint64(0); len(ys) < K*D; r++ {
		if drawn >= 1000 && float64(inside) < infer.MinAccepted*float64(drawn) {
			return nil, 0, fmt.Errorf("only %d of %d posterior draws fall inside the prior's support", inside, drawn)
		}
		n := max(1024, K-len(ys)/D)
		out := make([]float32, n*D)
		// Rounds of the top-ups: beyond the batches' (the batch index) and unique per event.
		if err := s.Draw(out, xb, n, seed, 1<<40|uint64(i)<<16|r); err != nil {
			return nil, 0, err
		}
		take(out)
	}
	return ys, float64(inside) / float64(drawn), nil
}

// prepareOut creates out, or checks that it holds an evaluation with the same settings and
// returns its finished events; force deletes another evaluation's files first.
func prepareOut(out string, s Settings, names []string, force bool) ([]EventResult, error) {
	path := filepath.Join(out, SettingsFile)
	want, _ := json.MarshalIndent(s, "", "  ")
	b, err := os.ReadFile(path)
	switch {
	case force:
	case errors.Is(err, os.ErrNotExist):
		if ents, _ := os.ReadDir(out); len(ents) > 0 && !force {
			return nil, fmt.Errorf("--out %s is not empty and holds no evaluation: give a new or empty directory", out)
		}
	case err != nil:
		return nil, err
	case strings.TrimSpace(string(b)) == string(want):
		return readEvents(filepath.Join(out, EventsFile), names)
	case !force:
		return nil, fmt.Errorf("%s holds an evaluation with other settings (%s): give another --out, or --force to start over", path, strings.Join(strings.Fields(string(b)), " "))
	}
	if force {
		for _, f := range []string{SettingsFile, EventsFile, SummaryFile, CoverageFile, ReportFile} {
			_ = os.Remove(filepath.Join(out, f))
		}
		for _, f := range Figures {
			_ = os.Remove(filepath.Join(out, f))
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	return nil, writeBytes(path, append(want, '\n'))
}

// eventsHeader returns the columns of EventsFile.
func eventsHeader(names []string) []string {
	h := []string{"index", "accepted", "tarp"}
	for _, n := range names {
		for _, c := range []string{"truth", "mode", "nearest", "modes", "peak_ratio", "lo68", "hi68", "lo95", "hi95", "rank", "covered"} {
			h = append(h, n+"_"+c)
		}
	}
	return h
}

func writeEvents(path string, names []string, rs []EventResult) error {
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	_ = w.Write(eventsHeader(names))
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) } // exact: a resumed run reads back the same numbers
	for _, r := range rs {
		row := []string{strconv.Itoa(r.Index), f(r.Accepted), f(r.TARP)}
		for _, p := range r.Params {
			cov := make([]byte, len(p.Covered))
			for l, c := range p.Covered {
				cov[l] = '0'
				if c {
					cov[l] = '1'
				}
			}
			row = append(row, f(p.Truth), f(p.Mode), f(p.Nearest), strconv.Itoa(p.Modes), f(p.PeakRatio),
				f(p.Lo68), f(p.Hi68), f(p.Lo95), f(p.Hi95), strconv.Itoa(p.Rank), string(cov))
		}
		_ = w.Write(row)
	}
	w.Flush()
	return writeBytes(path, []byte(sb.String()))
}

// readEvents reads EventsFile back (none when it is missing).
func readEvents(path string, names []string) ([]EventResult, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	want := strings.Join(eventsHeader(names), ",")
	if len(recs) == 0 || strings.Join(recs[0], ",") != want {
		return nil, fmt.Errorf("%s: not the events file of this model (header differs): delete it or give --force", path)
	}
	var rs []EventResult
	for ln, rec := range recs[1:] {
		bad := func(col int, err error) error {
			return fmt.Errorf("%s:%d: column %s: %v", path, ln+2, recs[0][col], err)
		}
		num := func(col int) (float64, error) { return strconv.ParseFloat(rec[col], 64) }
		var r EventResult
		var err error
		if r.Index, err = strconv.Atoi(rec[0]); err != nil {
			return nil, bad(0, err)
		}
		if r.Accepted, err = num(1); err != nil {
			return nil, bad(1, err)
		}
		if r.TARP, err = num(2); err != nil {
			return nil, bad(2, err)
		}
		for j := range names {
			c := 3 + 11*j
			var p ParamResult
			fs := []*float64{&p.Truth, &p.Mode, &p.Nearest}
			for k, dst := range fs {
				if *dst, err = num(c + k); err != nil {
					return nil, bad(c+k, err)
				}
			}
			if p.Modes, err = strconv.Atoi(rec[c+3]); err != nil {
				return nil, bad(c+3, err)
			}
			for k, dst := range []*float64{&p.PeakRatio, &p.Lo68, &p.Hi68, &p.Lo95, &p.Hi95} {
				if *dst, err = num(c + 4 + k); err != nil {
					return nil, bad(c+4+k, err)
				}
			}
			if p.Rank, err = strconv.Atoi(rec[c+9]); err != nil {
				return nil, bad(c+9, err)
			}
			cov := rec[c+10]
			if len(cov) != len(Levels) || strings.Trim(cov, "01") != "" {
				return nil, bad(c+10, fmt.Errorf("%q: want %d digits 0 or 1", cov, len(Levels)))
			}
			for _, ch := range cov {
				p.Covered = append(p.Covered, ch == '1')
			}
			r.Params = append(r.Params, p)
		}
		rs = append(rs, r)
	}
	return rs, nil
}
