package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// A hand-written log-log SVG line chart: no dependency for one plot.

// Point is one measurement; Estimated ones are drawn hollow, joined dotted.
type Point struct {
	X, Y      float64
	Estimated bool
}

// Series is one line of the chart.
type Series struct {
	Name   string
	Color  string
	Dashed bool
	Points []Point
}

const (
	plotW, plotH       = 820, 480
	plotLeft, plotTop  = 70, 40
	plotRight, plotBot = 270, 60 // room for the legend and the x labels
)

// plotSeries builds the chart's series from the runs: provider apply and
// refresh per mode, and the baseline's (shared by the modes); per setting
// too when the runs mix them (a merge of runs at several R).
func plotSeries(runs []Run) []Series {
	multi, multiRate := len(setups(runs)) > 1, len(rates(runs)) > 1
	colors := map[string]string{phaseCreate: "#1f77b4", phaseRefresh: "#2ca02c"}
	var out []Series
	index := map[string]int{}
	add := func(name, color string, dashed bool, p Point) {
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, Series{Name: name, Color: color, Dashed: dashed})
		}
		out[i].Points = append(out[i].Points, p)
	}
	label := map[string]string{phaseCreate: "apply", phaseRefresh: "refresh"}
	baselineDone := map[string]bool{}
	for _, r := range runs {
		for _, p := range r.Phases {
			if p.Name != phaseCreate && p.Name != phaseRefresh {
				continue
			}
			n := float64(r.N)
			which := r.Mode
			if multi {
				which += ", " + r.setup()
			}
			add(fmt.Sprintf("provider %s (%s)", label[p.Name], which), colors[p.Name], r.Mode != modeWith,
				Point{X: n, Y: time.Duration(p.Wall).Seconds()})
			key := fmt.Sprint(r.N, p.Name, r.Rate)
			if p.BaselineStatus == baselineSkipped || baselineDone[key] {
				continue
			}
			baselineDone[key] = true
			color := map[string]string{phaseCreate: "#d62728", phaseRefresh: "#ff7f0e"}[p.Name]
			name := "baseline " + label[p.Name]
			if multiRate {
				name += " (" + Run{Rate: r.Rate}.setup() + ")"
			}
			add(name, color, false,
				Point{X: n, Y: time.Duration(p.Baseline).Seconds(), Estimated: p.BaselineStatus == baselineEstimated})
		}
	}
	// Legend order: the provider's lines, then the baseline's.
	sort.SliceStable(out, func(i, j int) bool {
		return !strings.HasPrefix(out[i].Name, "baseline") && strings.HasPrefix(out[j].Name, "baseline")
	})
	return out
}

// Colors of the phases in the CPU chart.
var phaseColors = map[string]string{
	phaseCreate: "#1f77b4", phaseRefresh: "#2ca02c", phaseUpdate: "#9467bd", phaseDestroy: "#d62728",
	phaseBatches: "#ff7f0e", phaseQuery: "#8c564b", phaseHealth: "#17becf",
}

// cpuSeries builds the CPU chart of one mode: per phase, the provider's CPU
// per 1,000 batches (solid) and Terraform's own (dashed), against N.
func cpuSeries(runs []Run, mode string) []Series {
	multi := len(setups(runs)) > 1
	var out []Series
	index := map[string]int{}
	for _, proc := range []string{procProvider, procTerraform} {
		for _, phase := range allPhases {
			for _, r := range runs {
				if r.Mode != mode {
					continue
				}
				p, ok := r.phase(phase)
				if !ok {
					continue
				}
				v := p.ProviderPer1k()
				if proc == procTerraform {
					v = p.TerraformPer1k()
				}
				if v <= 0 {
					continue
				}
				name := proc + " " + phase
				if multi {
					name += " (" + r.setup() + ")"
				}
				i, ok := index[name]
				if !ok {
					i = len(out)
					index[name] = i
					out = append(out, Series{Name: name, Color: phaseColors[phase], Dashed: proc == procTerraform})
				}
				out[i].Points = append(out[i].Points, Point{X: float64(r.N), Y: v})
			}
		}
	}
	for i := range out {
		sort.Slice(out[i].Points, func(a, b int) bool { return out[i].Points[a].X < out[i].Points[b].X })
	}
	return out
}

// Chart is what a plot says around its series.
type Chart struct {
	Title  string
	YLabel string
	// Value labels a point's y in its tooltip.
	Value func(y float64) string
}

// wallChart is the wall-time chart's frame.
func wallChart(title string) Chart {
	return Chart{Title: title, YLabel: "wall time, seconds (log scale)", Value: secondsLabel}
}

// cpuChart is the CPU chart's frame.
func cpuChart(title string) Chart {
	return Chart{Title: title, YLabel: "CPU ms per batch (= s per 1,000 batches, log scale)",
		Value: func(y float64) string { return fmt.Sprintf("%g ms per batch", y) }}
}

// logAxis maps values onto [0,1] on a log scale padded around the data.
type logAxis struct{ lo, hi float64 } // log10 bounds

func newLogAxis(vals []float64) logAxis {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if v > 0 {
			lo, hi = min(lo, math.Log10(v)), max(hi, math.Log10(v))
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	pad := max(0.15, (hi-lo)*0.08)
	return logAxis{lo - pad, hi + pad}
}

func (a logAxis) frac(v float64) float64 { return (math.Log10(v) - a.lo) / (a.hi - a.lo) }

// ticks are 1, 2, 5 x 10^k inside the axis.
func (a logAxis) ticks() []float64 {
	var out []float64
	for k := math.Floor(a.lo); k <= math.Ceil(a.hi); k++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, k)
			if l := math.Log10(v); l >= a.lo && l <= a.hi {
				out = append(out, v)
			}
		}
	}
	return out
}

func countLabel(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%gk", v/1000)
	}
	return fmt.Sprintf("%g", v)
}

func secondsLabel(v float64) string {
	if v >= 60 {
		return fmt.Sprintf("%g s (%.3g min)", v, v/60)
	}
	return fmt.Sprintf("%g s", v)
}

// writeSVG draws the series as a log-log chart against N.
func writeSVG(w io.Writer, c Chart, series []Series) error {
	title := c.Title
	var xs, ys []float64
	for _, s := range series {
		for _, p := range s.Points {
			xs, ys = append(xs, p.X), append(ys, p.Y)
		}
	}
	ax, ay := newLogAxis(xs), newLogAxis(ys)
	innerW, innerH := float64(plotW-plotLeft-plotRight), float64(plotH-plotTop-plotBot)
	px := func(v float64) float64 { return plotLeft + ax.frac(v)*innerW }
	py := func(v float64) float64 { return plotTop + (1-ay.frac(v))*innerH }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		plotW, plotH, plotW, plotH)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", plotLeft, esc(title))

	b.WriteString(`<g class="grid" stroke="#ddd">` + "\n")
	for _, t := range ax.ticks() {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n", px(t), plotTop, px(t), plotH-plotBot)
	}
	for _, t := range ay.ticks() {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`+"\n", plotLeft, py(t), plotW-plotRight, py(t))
	}
	b.WriteString("</g>\n")

	b.WriteString(`<g class="axes">` + "\n")
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#333"/>`+"\n", plotLeft, plotTop, innerW, innerH)
	for _, t := range ax.ticks() {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", px(t), plotH-plotBot+16, countLabel(t))
	}
	for _, t := range ay.ticks() {
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", plotLeft-6, py(t), countLabel(t))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">batches in the project (N, log scale)</text>`+"\n", plotLeft+innerW/2, plotH-18)
	fmt.Fprintf(&b, `<text transform="translate(18 %.0f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", plotTop+innerH/2, esc(c.YLabel))
	b.WriteString("</g>\n")

	for _, s := range series {
		fmt.Fprintf(&b, `<g class="series" data-name="%s" stroke="%s" fill="%s">`+"\n", esc(s.Name), s.Color, s.Color)
		for i := 1; i < len(s.Points); i++ {
			p, q := s.Points[i-1], s.Points[i]
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke-width="2"%s/>`+"\n",
				px(p.X), py(p.Y), px(q.X), py(q.Y), dash(s.Dashed, p.Estimated || q.Estimated))
		}
		for _, p := range s.Points {
			fill := ""
			if p.Estimated {
				fill = ` fill="white" class="estimated"`
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4"%s><title>%s: N=%g, %s</title></circle>`+"\n",
				px(p.X), py(p.Y), fill, esc(s.Name), p.X, c.Value(roundSig(p.Y)))
		}
		b.WriteString("</g>\n")
	}

	b.WriteString(`<g class="legend">` + "\n")
	lx := plotW - plotRight + 16
	for i, s := range series {
		y := plotTop + 10 + i*20
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", lx, y, lx+24, y, s.Color, dash(s.Dashed, false))
		fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", lx+30, y, esc(s.Name))
	}
	if estimated(series) {
		y := plotTop + 10 + len(series)*20 + 6
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="4" fill="white" stroke="#333"/>`+"\n", lx+12, y)
		fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">estimated, not run</text>`+"\n", lx+30, y)
	}
	b.WriteString("</g>\n</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func estimated(series []Series) bool {
	for _, s := range series {
		for _, p := range s.Points {
			if p.Estimated {
				return true
			}
		}
	}
	return false
}

// roundSig rounds to 3 significant digits (2 decimals at least for seconds).
func roundSig(v float64) float64 {
	if v == 0 {
		return 0
	}
	if v >= 1 {
		return math.Round(v*100) / 100
	}
	scale := math.Pow(10, 2-math.Floor(math.Log10(v)))
	return math.Round(v*scale) / scale
}

func dash(dashed, estimated bool) string {
	switch {
	case estimated:
		return ` stroke-dasharray="2 4"`
	case dashed:
		return ` stroke-dasharray="7 4"`
	}
	return ""
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func esc(s string) string { return xmlEscaper.Replace(s) }
