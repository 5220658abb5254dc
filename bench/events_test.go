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
	clipped := 0
	for i, e := range a {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		ls, lq, lt, lr := math.Log10(e.S), math.Log10(e.Q), math.Log10(e.TE), math.Log10(e.Rho)
		if ls < LogSMin-1e-12 || ls > LogSMax+1e-12 || lq < LogQMin || lq > LogQMax ||
			e.Alpha < 0 || e.Alpha >= 2*math.Pi || e.U0 < U0Min || e.U0 >= U0Max ||
			e.T0 < T0Min || e.T0 >= T0Max || lt < LogTEMin || lt > LogTEMax ||
			lr < LogRhoMin || lr > LogRhoMax {
			t.Errorf("event %d outside the prior: %+v", i, e)
		}
		if lt == LogTEMin || lt == LogTEMax {
			clipped++
		}
	}
	// P(|N(1.15,0.45)| beyond [0,2]) ≈ 0.029: expect a handful of clipped tE among 200.
	if clipped > 20 {
		t.Errorf("%d of 200 tE clipped, expected about 6", clipped)
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
