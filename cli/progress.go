package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progress shows how far a long operation has got. Add is safe for
// concurrent use and costs an atomic add: the display is redrawn by a
// ticker, never by Add. Finish ends the display.
type progress interface {
	Add(n int64)
	Finish()
}

// newProgress returns desync's progress display for an operation of total
// bytes (0: unknown) on w (stderr): with DESYNC_ENABLE_PARSABLE_PROGRESS
// set, a line every half second that integrators (RAUC, SteamOS) parse,
// like "Assembling  42.17% 00m13s" (for phases of known size only); else a bar redrawn in place when w is
// a terminal or DESYNC_PROGRESSBAR_ENABLED is set; else nothing.
func newProgress(w io.Writer, op string, total int64) progress {
	switch {
	case os.Getenv("DESYNC_ENABLE_PARSABLE_PROGRESS") != "":
		if total <= 0 {
			return nopProgress{} // the lines are percentages
		}
		return startTicker(&lineDisplay{w: w}, op, total, 500*time.Millisecond)
	case os.Getenv("DESYNC_PROGRESSBAR_ENABLED") != "" || isTerminal(w):
		return startTicker(&barDisplay{w: w, width: termWidth(w)}, op, total, 200*time.Millisecond)
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

func (p *phases) Add(n int64) {
	if p.cur != nil {
		p.cur.Add(n)
	}
}

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

// termWidth is the width of the terminal w, or 80.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 20 {
			return width
		}
	}
	return 80
}

type nopProgress struct{}

func (nopProgress) Add(int64) {}
func (nopProgress) Finish()   {}

// state is what a display shows: the operation, its total (0: unknown),
// the bytes done and the time since it started.
type state struct {
	op      string
	total   int64
	done    int64
	elapsed time.Duration
}

// rate is the bytes per second so far; 0 in the first second, when it
// would mostly measure start-up.
func (s state) rate() float64 {
	if s.elapsed < time.Second || s.done <= 0 {
		return 0
	}
	return float64(s.done) / s.elapsed.Seconds()
}

// display draws a state: often while the operation runs, once at its end.
type display interface {
	draw(s state)
	final(s state)
}

// ticker redraws a display at a fixed interval until Finish.
type ticker struct {
	d     display
	op    string
	total int64
	done  atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startTicker(d display, op string, total int64, every time.Duration) *ticker {
	t := &ticker{d: d, op: op, total: max(total, 0), start: time.Now(), stop: make(chan struct{})}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				t.d.draw(t.state())
			case <-t.stop:
				return
			}
		}
	}()
	return t
}

func (t *ticker) Add(n int64) { t.done.Add(n) }

func (t *ticker) state() state {
	return state{op: t.op, total: t.total, done: t.done.Load(), elapsed: time.Since(t.start)}
}

// Finish stops the redraws and draws the last state: it says 100% only if
// all was done, so a failed or interrupted operation shows where it stopped.
func (t *ticker) Finish() {
	close(t.stop)
	t.wg.Wait()
	t.d.final(t.state())
}

// lineDisplay prints "<op> <percent>% <time left>" lines, the original
// desync's parsable progress, and at the end the elapsed time.
type lineDisplay struct{ w io.Writer }

func (d *lineDisplay) draw(s state) { d.print(s, false) }
func (d *lineDisplay) final(s state) {
	d.print(s, true)
}

func (d *lineDisplay) print(s state, final bool) {
	pct := 100.0
	if s.total > 0 {
		pct = 100 * float64(s.done) / float64(s.total)
	}
	var t string
	switch {
	case final && s.done >= s.total:
		t = minSec(s.elapsed)
	case s.done > 0 && s.total > 0:
		t = minSec(time.Duration(float64(s.elapsed) * float64(s.total-s.done) / float64(s.done)))
	}
	fmt.Fprintf(d.w, "%s %7.2f%% %s\n", s.op, pct, t)
}

func minSec(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%02dm%02ds", s/60, s%60)
}

// barDisplay redraws one line in place on a terminal:
//
//	Assembling [=========>          ]  47%  240.0 MiB / 512.0 MiB  85.3 MiB/s  ETA 3s
//
// and ends it with the totals: "Assembling 512.0 MiB in 6.0s (85.3 MiB/s)",
// or "Assembling stopped at 47% (240.0 MiB in 2.8s)".
type barDisplay struct {
	w     io.Writer
	width int
}

func (d *barDisplay) draw(s state) {
	var text string
	switch {
	case s.total > 0:
		frac := min(float64(s.done)/float64(s.total), 1)
		text = fmt.Sprintf(" %3.0f%%  %s / %s", 100*frac, humanBytes(s.done), humanBytes(s.total))
		if r := s.rate(); r > 0 {
			left := time.Duration(float64(s.total-s.done) / r * float64(time.Second))
			text += fmt.Sprintf("  %s/s  ETA %s", humanBytes(int64(r)), shortDuration(left))
		}
		// The bar takes the room the text leaves, if there is some.
		if n := d.width - len(s.op) - len(text) - 4; n >= 10 {
			full := int(frac * float64(n))
			bar := strings.Repeat("=", full)
			if full < n {
				bar += ">" + strings.Repeat(" ", n-full-1)
			}
			text = " [" + bar + "]" + text
		}
	case s.done > 0:
		text = "  " + humanBytes(s.done)
		if r := s.rate(); r > 0 {
			text += fmt.Sprintf("  %s/s", humanBytes(int64(r)))
		}
	default:
		text = "  " + shortDuration(s.elapsed)
	}
	fmt.Fprintf(d.w, "\r%s%s\x1b[K", s.op, text)
}

func (d *barDisplay) final(s state) {
	var line string
	switch {
	case s.total > 0 && s.done < s.total:
		line = fmt.Sprintf("%s stopped at %.0f%% (%s in %s)", s.op, 100*float64(s.done)/float64(s.total), humanBytes(s.done), shortDuration(s.elapsed))
	case s.done > 0:
		line = fmt.Sprintf("%s %s in %s (%s/s)", s.op, humanBytes(s.done), shortDuration(s.elapsed),
			humanBytes(int64(float64(s.done)/max(s.elapsed.Seconds(), 1e-3))))
	default:
		line = fmt.Sprintf("%s took %s", s.op, shortDuration(s.elapsed))
	}
	fmt.Fprintf(d.w, "\r%s\x1b[K\n", line)
}

// shortDuration rounds d for a person: "850ms", "6.0s", "3m05s".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}

// humanBytes writes n bytes in the largest binary unit that keeps it at
// least 1 ("3.2 MiB", "512 B").
func humanBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, units[i])
}
