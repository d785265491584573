package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a long operation has got. Add is safe for
// concurrent use; Finish ends the display.
type progress interface {
	Add(n int64)
	Finish()
}

// newProgress returns desync's progress display for an operation of total
// bytes on w (stderr): with DESYNC_ENABLE_PARSABLE_PROGRESS set, a line
// every half second that integrators (RAUC, SteamOS) parse, like
// "Assembling  42.17% 00m13s"; else a bar when w is a terminal or
// DESYNC_PROGRESSBAR_ENABLED is set; else nothing.
func newProgress(w io.Writer, op string, total int64) progress {
	switch {
	case os.Getenv("DESYNC_ENABLE_PARSABLE_PROGRESS") != "":
		return newLineProgress(w, op, total, 500*time.Millisecond)
	case os.Getenv("DESYNC_PROGRESSBAR_ENABLED") != "" || isTerminal(w):
		return barProgress{bar: progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(op),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)}
	}
	return nopProgress{}
}

// phases is an assemble.Progress shown with newProgress, one display per
// phase.
type phases struct {
	w   io.Writer
	cur progress
}

func (p *phases) Phase(name string, total int64) {
	p.Finish()
	p.cur = newProgress(p.w, name, total)
}

func (p *phases) Add(n int64) { p.cur.Add(n) }

// Finish ends the display of the current phase.
func (p *phases) Finish() {
	if p.cur != nil {
		p.cur.Finish()
		p.cur = nil
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

type nopProgress struct{}

func (nopProgress) Add(int64) {}
func (nopProgress) Finish()   {}

// barProgress draws a bar; the bar locks itself, so workers may Add at once.
type barProgress struct{ bar *progressbar.ProgressBar }

func (b barProgress) Add(n int64) { b.bar.Add64(n) }
func (b barProgress) Finish()     { b.bar.Finish() }

// lineProgress prints "<op> <percent>% <time left>" lines.
type lineProgress struct {
	w     io.Writer
	op    string
	total int64
	done  atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newLineProgress(w io.Writer, op string, total int64, every time.Duration) *lineProgress {
	p := &lineProgress{w: w, op: op, total: total, start: time.Now(), stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.print(false)
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

func (p *lineProgress) Add(n int64) { p.done.Add(n) }

// Finish prints the last line, with the elapsed time when all is done.
func (p *lineProgress) Finish() {
	close(p.stop)
	p.wg.Wait()
	p.print(true)
}

func (p *lineProgress) print(final bool) {
	done := p.done.Load()
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(done) / float64(p.total)
	}
	elapsed := time.Since(p.start)
	var t string
	switch {
	case final && done >= p.total:
		t = minSec(elapsed)
	case done > 0:
		t = minSec(time.Duration(float64(elapsed) * float64(p.total-done) / float64(done)))
	}
	fmt.Fprintf(p.w, "%s %7.2f%% %s\n", p.op, pct, t)
}

func minSec(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%02dm%02ds", s/60, s%60)
}
