package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressLogInterval is the interval between progress log lines when standard error is not
// a terminal.
const progressLogInterval = 5 * time.Second

// progress reports the progress of long work on w (standard error): a progress bar when w
// is a terminal, otherwise a log line every progressLogInterval; nothing when quiet.
// Notices (Printf) never interleave with a live bar. Its methods are safe for concurrent use.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string // "simulate: "
	unit    string // "events"
	quiet   bool
	bar     *progressbar.ProgressBar
	isTerm  bool
	start   time.Time
	lastLog time.Time
	first   int // done at the first Update, for the rate
}

// newProgress returns a reporter on w for work counted in unit.
func newProgress(w io.Writer, cmd, unit string, quiet bool) *progress {
	p := &progress{w: w, prefix: cmd + ": ", unit: unit, quiet: quiet, start: time.Now(), first: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.isTerm = true
	}
	return p
}

// Update records that done of total units are done.
func (p *progress) Update(done, total int) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first < 0 {
		p.first, p.start, p.lastLog = done, time.Now(), time.Now()
	}
	if p.isTerm {
		if p.bar == nil {
			p.bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(p.prefix[:len(p.prefix)-2]),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString(p.unit),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetWidth(30),
			)
		}
		p.bar.Set(done)
		return
	}
	if now := time.Now(); now.Sub(p.lastLog) >= progressLogInterval {
		p.lastLog = now
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.status(done, total, now))
	}
}

// status formats "1234/10000 events (12.3%), 45.6 events/s, 3m12s left".
func (p *progress) status(done, total int, now time.Time) string {
	s := fmt.Sprintf("%d/%d %s (%.1f%%)", done, total, p.unit, 100*float64(done)/float64(max(total, 1)))
	el := now.Sub(p.start).Seconds()
	if rate := float64(done-p.first) / el; el > 0 && rate > 0 {
		left := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
		s += fmt.Sprintf(", %.3g %s/s, %v left", rate, p.unit, left)
	}
	return s
}

// Printf writes a notice line (prefixed with the command), clearing a live bar first.
func (p *progress) Printf(format string, args ...any) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintf(p.w, p.prefix+format+"\n", args...)
}

// Done ends the bar, leaving the cursor on a fresh line.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}
