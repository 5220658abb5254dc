package bench

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestEventsDeterministicAndInPrior(t *testing.T) {
	a := Events(200, DefaultSeed)
	b := Events(20, DefaultSeed)
	if !reflect.DeepEqual(a[:20], b) {
		t.Fatal("first 20 of 200 events differ from a set of 20 with the same seed")
	}
	if reflect.DeepEqual(Events(5, DefaultSeed+1), a[:5]) {
		t.Fatal("another seed gives the same events")
	}
	if err := Prior().Validate(); err != nil {
		t.Fatalf("benchmark prior: %v", err)
	}
	// Every event lies in the prior's support, and the mass ratios reach below the default
	// training prior's 1e-3 (the reason for the wider prior).
	lowQ := 0
	for i, e := range a {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		ls, lq, lt, lr := math.Log10(e.S), math.Log10(e.Q), math.Log10(e.TE), math.Log10(e.Rho)
		if ls < math.Log10(0.2)-1e-12 || ls > math.Log10(5)+1e-12 || lq < -6 || lq > 0 ||
			e.Alpha < 0 || e.Alpha > 2*math.Pi || e.U0 < 0 || e.U0 > 2 ||
			e.T0 < 0 || e.T0 > 72 || lt < -1e-12 || lt > 2+1e-12 || lr < -4-1e-12 || lr > -2+1e-12 {
			t.Errorf("event %d outside the prior: %+v", i, e)
		}
		if lq < -3 {
			lowQ++
		}
	}
	// P(log10 q < −3) = 1/2: 100 ± 7 of 200.
	if lowQ < 70 || lowQ > 130 {
		t.Errorf("%d of 200 events with q < 1e-3, want about 100", lowQ)
	}
}

func TestEventsCSVRoundTrip(t *testing.T) {
	evs := Events(7, 42)
	var buf bytes.Buffer
	if err := WriteEvents(&buf, evs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEvents(&buf, "events.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, evs) {
		t.Errorf("round trip changed the events:\n got %+v\nwant %+v", got, evs)
	}
}

func TestReadEventsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"s,q\n", "line 1"},
		{"s,q,alpha,u0,t0,tE,rho\n1,0.1,0,0.1,10,20,x\n", "line 2"},
		{"s,q,alpha,u0,t0,tE,rho\n1,0.1,0,0.1,10,-20,0.001\n", "line 2"},
		{"s,q,alpha,u0,t0,tE,rho\n1,0.1,0,0.1,10,20\n", "line 2"},
	} {
		_, err := ReadEvents(strings.NewReader(tc.in), "ev.csv")
		if err == nil || !strings.Contains(err.Error(), "ev.csv") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming ev.csv and %q", tc.in, err, tc.want)
		}
	}
}

func TestLightCurvesFillsMags(t *testing.T) {
	evs := Events(2, DefaultSeed)
	ts := Times()[:50]
	mags := make([]float64, len(evs)*len(ts))
	r := LightCurves(evs, ts, 1e-3, mags)
	if r.Curves != 2 || r.Points != 100 || r.Elapsed <= 0 {
		t.Errorf("result %+v", r)
	}
	for i, a := range mags {
		if !(a >= 0.5) || math.IsInf(a, 0) {
			t.Fatalf("magnification %d = %v", i, a)
		}
	}
}
