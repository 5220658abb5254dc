package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

// DefaultSeed is the seed of the event set that `mlcu bench lens` times by default.
const DefaultSeed = 1

// Prior returns the prior of the benchmark's events: the default training prior
// (event.DefaultPrior) with the mass ratio down to 1e-6, log10 q ~ U(−6, 0), so the timings
// cover planetary caustics too.
func Prior() event.Prior {
	p := event.DefaultPrior()
	p.Q = event.LogUniform(1e-6, 1)
	return p
}

// Times returns the benchmark's time grid: 7,200 points t = 0, 0.01, …, 71.99 days.
func Times() []float64 { return lens.RomanTimes(0, 72, lens.RomanCadence) }

// Events returns n events drawn from Prior with the given seed (event.Prior.Sample). The same
// (n, seed) always gives the same events, and the first k events of a larger set equal the
// set of k.
func Events(n int, seed uint64) []lens.Event {
	src := rng.New(seed, 0x6d6c6375) // second word: "mlcu"
	p := Prior()
	evs := make([]lens.Event, n)
	for i := range evs {
		evs[i] = p.Sample(src).Event()
	}
	return evs
}

// EventsHeader is the header of the event CSV files that WriteEvents writes.
var EventsHeader = []string{"s", "q", "alpha", "u0", "t0", "tE", "rho"}

// WriteEvents writes evs as CSV with the header EventsHeader and every value with 17
// significant digits, so that they read back as the same doubles.
func WriteEvents(w io.Writer, evs []lens.Event) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(EventsHeader); err != nil {
		return err
	}
	for _, e := range evs {
		rec := make([]string, 0, len(EventsHeader))
		for _, v := range []float64{e.S, e.Q, e.Alpha, e.U0, e.T0, e.TE, e.Rho} {
			rec = append(rec, strconv.FormatFloat(v, 'g', 17, 64))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadEvents reads events written by WriteEvents. name labels errors, which name the line.
// Every event is checked with lens.Event.Validate.
func ReadEvents(r io.Reader, name string) ([]lens.Event, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, expected the header %s", name, strings.Join(EventsHeader, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if strings.Join(head, ",") != strings.Join(EventsHeader, ",") {
		return nil, fmt.Errorf("%s: line 1: header %q, want %s", name, strings.Join(head, ","), strings.Join(EventsHeader, ","))
	}
	var evs []lens.Event
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		line, _ := cr.FieldPos(0)
		var v [7]float64
		for i, f := range rec {
			v[i], err = strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %s = %q is not a number", name, line, EventsHeader[i], f)
			}
		}
		e := lens.Event{S: v[0], Q: v[1], Alpha: v[2], U0: v[3], T0: v[4], TE: v[5], Rho: v[6]}
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", name, line, err)
		}
		evs = append(evs, e)
	}
}
