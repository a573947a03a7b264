package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// histogram records latencies in nanoseconds.
type histogram struct{ h *hdrhistogram.Histogram }

// histMax is the largest latency recorded as itself; longer ones count as
// histMax.
const histMax = int64(time.Minute)

func newHistogram() *histogram { return &histogram{hdrhistogram.New(1, histMax, 3)} }

func (h *histogram) record(d time.Duration) {
	_ = h.h.RecordValue(min(max(int64(d), 1), histMax)) // in range: cannot fail
}

func (h *histogram) merge(o *histogram) { h.h.Merge(o.h) }

func (h *histogram) quantile(q float64) time.Duration {
	return time.Duration(h.h.ValueAtQuantile(q))
}

// benchReport is what `seqtools bench --json` prints.
type benchReport struct {
	Settings benchSettings `json:"settings"`
	Results  []benchResult `json:"results"`
}

type benchSettings struct {
	Duration     string `json:"duration_per_cell"`
	Rounds       int    `json:"rounds"`
	Callers      []int  `json:"callers"`
	BlockSize    int64  `json:"block_size"`    // 0: the defaults
	StoreLatency string `json:"store_latency"` // added to each DynamoDB request of the contenders
	CPUs         int    `json:"cpus"`
	GOOS         string `json:"goos"`
	GOARCH       string `json:"goarch"`
	Go           string `json:"go"`
	Endpoint     string `json:"dynamodb_endpoint"`
	Histogram    string `json:"histogram"`
}

// benchResult is one contender at one concurrency. Latencies are in
// microseconds.
type benchResult struct {
	Contender string  `json:"contender"`
	About     string  `json:"about"`
	Callers   int     `json:"callers"`
	Ops       int64   `json:"ops"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	P999us    float64 `json:"p999_us"`
	P9999us   float64 `json:"p9999_us"`
	MaxUs     float64 `json:"max_us"`
	Baseline  string  `json:"baseline"`
	// Ratio is OpsPerSec over the baseline's at the same concurrency;
	// 0 when the baseline did not run.
	Ratio float64 `json:"ratio_to_native"`
	// DynamoRequests counts requests sent to DynamoDB during the measured
	// time (block reservations, or one UpdateItem per value); DynamoShare
	// is their share of the calls.
	DynamoRequests int64   `json:"dynamodb_requests"`
	DynamoShare    float64 `json:"dynamodb_share"`
	ReachesDynamo  bool    `json:"reaches_dynamodb"`
	// Waits counts the times callers waited for the store during the
	// measured time, for the contenders with a cache (Cached).
	Waits  int64 `json:"waits"`
	Cached bool  `json:"cached"`
}

func (r *benchReport) add(c *cell) {
	us := func(q float64) float64 { return float64(c.hist.quantile(q)) / 1e3 }
	res := benchResult{
		Contender:      c.c.name,
		About:          c.c.about,
		Callers:        c.callers,
		Ops:            c.ops,
		Seconds:        c.elapsed.Seconds(),
		OpsPerSec:      float64(c.ops) / c.elapsed.Seconds(),
		P50us:          us(50),
		P99us:          us(99),
		P999us:         us(99.9),
		P9999us:        us(99.99),
		MaxUs:          float64(c.hist.h.Max()) / 1e3,
		Baseline:       c.c.baseline,
		DynamoRequests: c.requests,
		ReachesDynamo:  c.c.requests != nil,
		Waits:          c.waits,
		Cached:         c.c.waits != nil,
	}
	if c.ops > 0 {
		res.DynamoShare = float64(c.requests) / float64(c.ops)
	}
	r.Results = append(r.Results, res)
}

// ratios fills each result's ratio to its baseline.
func (r *benchReport) ratios() {
	for i := range r.Results {
		res := &r.Results[i]
		for _, b := range r.Results {
			if b.Contender == res.Baseline && b.Callers == res.Callers && b.OpsPerSec > 0 {
				res.Ratio = res.OpsPerSec / b.OpsPerSec
			}
		}
	}
}

func (r *benchReport) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints the results for people, one block per concurrency.
func (r *benchReport) writeTable(w io.Writer) {
	s := r.Settings
	fmt.Fprintf(w, "seqshim bench: %d CPUs %s/%s %s, DynamoDB %s%s, %s per cell in %d turns, %s\n\n",
		s.CPUs, s.GOOS, s.GOARCH, s.Go, s.Endpoint, s.latencyNote(), s.Duration, s.Rounds, s.config())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\tcallers\tops/s\tp50\tp99\tp99.9\tp99.99\tvs native\tDynamoDB share\twaits\t")
	last := 0
	for _, res := range r.Results {
		if last != 0 && res.Callers != last {
			fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t\t")
		}
		last = res.Callers
		ratio := "-"
		if res.Ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", res.Ratio)
		}
		if res.Contender == res.Baseline {
			ratio = "1x"
		}
		share := "-"
		if res.ReachesDynamo {
			share = percent(res.DynamoShare)
		}
		waits := "-"
		if res.Cached {
			waits = strconv.FormatInt(res.Waits, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%v\t%v\t%v\t%v\t%s\t%s\t%s\t\n", res.Contender, res.Callers, humanRate(res.OpsPerSec),
			usDur(res.P50us), usDur(res.P99us), usDur(res.P999us), usDur(res.P9999us), ratio, share, waits)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nvs native: ops/s over the native contender's at the same concurrency (nextval/native for dynamodb-updateitem and cache-next).")
	fmt.Fprintln(w, "DynamoDB share: requests sent to DynamoDB per call. waits: times a caller waited for the store (contenders with a cache).")
	fmt.Fprintln(w, "Contenders:")
	seen := make(map[string]bool)
	for _, res := range r.Results {
		if !seen[res.Contender] {
			seen[res.Contender] = true
			fmt.Fprintf(w, "  %-24s %s\n", res.Contender, res.About)
		}
	}
}

// percent writes a share as a percentage with three decimals, or two
// significant digits when smaller: a hot sequence's share of calls that
// reach DynamoDB is a few in a million.
func percent(v float64) string {
	p := 100 * v
	decimals := 3
	if p > 0 && p < 0.001 {
		decimals = 1 - int(math.Floor(math.Log10(p)))
	}
	return strconv.FormatFloat(p, 'f', decimals, 64) + "%"
}

// config describes the cache configuration of the run.
func (s benchSettings) config() string {
	if s.BlockSize == 0 {
		return "seqshim and the cache with their defaults"
	}
	return fmt.Sprintf("block_size %d (the rest defaults)", s.BlockSize)
}

// latencyNote describes the latency added to DynamoDB requests, if any.
func (s benchSettings) latencyNote() string {
	if s.StoreLatency == "" || s.StoreLatency == "0s" {
		return ""
	}
	return " +" + s.StoreLatency + " a request"
}

func usDur(us float64) time.Duration { return roundSig(time.Duration(us * 1e3)) }

// humanRate writes a rate with three significant digits: 950, 12.3k, 1.25M.
func humanRate(v float64) string {
	unit := ""
	for _, u := range []string{"k", "M", "G"} {
		if v < 999.5 {
			break
		}
		v, unit = v/1000, u
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + unit
}

// plot draws throughput, p50 and p99 latency against the number of
// callers, one line per contender, on log scales, with the legend on the
// right.
func (r *benchReport) plot(file string) error {
	latLabel := func(us float64) string { return roundSig(time.Duration(us * 1e3)).String() }
	panels := []struct {
		title, unit string
		value       func(benchResult) float64
		label       func(float64) string
	}{
		{"Throughput", "calls/s", func(b benchResult) float64 { return b.OpsPerSec }, humanRate},
		{"Latency p50", "latency", func(b benchResult) float64 { return b.P50us }, latLabel},
		{"Latency p99", "latency", func(b benchResult) float64 { return b.P99us }, latLabel},
	}
	var names []string
	for _, res := range r.Results {
		if !slices.Contains(names, res.Contender) {
			names = append(names, res.Contender)
		}
	}
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	legend.TextStyle.Font.Size = vg.Points(11)
	var plots []*plot.Plot
	for pi, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "concurrent callers"
		p.Y.Label.Text = pn.unit + " (log scale)"
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker = callerTicks(r.Settings.Callers)
		p.Y.Tick.Marker = labelledTicks{plot.LogTicks{Prec: -1}, pn.label}
		p.Add(plotter.NewGrid())
		for ni, name := range names {
			var xys plotter.XYs
			for _, res := range r.Results {
				if v := pn.value(res); res.Contender == name && v > 0 {
					xys = append(xys, plotter.XY{X: float64(res.Callers), Y: v})
				}
			}
			if len(xys) == 0 {
				continue
			}
			line, points, err := plotter.NewLinePoints(xys)
			if err != nil {
				return fmt.Errorf("plot: %w", err)
			}
			line.Color, points.Color = seriesColor(name), seriesColor(name)
			line.Width = vg.Points(1.8)
			if strings.HasSuffix(name, "/native") {
				line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			points.Shape = plotutil.Shape(ni)
			points.Radius = vg.Points(3.5)
			p.Add(line, points)
			if pi == 0 {
				legend.Add(name, line, points)
			}
		}
		// Explicit ranges with room around the data: a log axis must not
		// reach zero, which gonum's padding of a flat range would do.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, res := range r.Results {
			if v := pn.value(res); v > 0 {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		if lo > hi {
			lo, hi = 1, 10
		}
		p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
		p.X.Min, p.X.Max = float64(slices.Min(r.Settings.Callers))/1.3, float64(slices.Max(r.Settings.Callers))*1.3
		plots = append(plots, p)
	}

	const w, h = 15 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	legendW := 2.6 * vg.Inch
	area := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: dc.Min, Max: vg.Point{X: dc.Max.X - legendW, Y: dc.Max.Y}}}
	canvases := plot.Align([][]*plot.Plot{plots}, draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Inch / 4, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8}, area)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	s := r.Settings
	note := plot.New()
	note.HideAxes()
	legendArea := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: dc.Max.X - legendW + vg.Inch/8, Y: dc.Min.Y + vg.Inch/2},
		Max: vg.Point{X: dc.Max.X - vg.Inch/8, Y: dc.Max.Y - vg.Inch/2}}}
	legend.Draw(legendArea)
	caption := fmt.Sprintf("%d CPUs, %s per cell%s\n%s\nnative: dashed", s.CPUs, s.Duration, s.latencyNote(), s.config())
	sty := legend.TextStyle
	sty.Font.Size = vg.Points(9)
	legendArea.FillText(sty, vg.Point{X: legendArea.Min.X, Y: legendArea.Min.Y}, caption)

	f, err := createFile(file)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot: writing %s: %w", file, err)
	}
	return f.Close()
}

// labelledTicks are log ticks with labels such as 10k or 1ms.
type labelledTicks struct {
	plot.Ticker
	label func(float64) string
}

func (t labelledTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := t.Ticker.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = t.label(ticks[i].Value)
		}
	}
	return ticks
}

// callerTicks marks exactly the concurrencies measured.
func callerTicks(callers []int) plot.ConstantTicks {
	var ticks []plot.Tick
	for _, n := range callers {
		ticks = append(ticks, plot.Tick{Value: float64(n), Label: fmt.Sprint(n)})
	}
	return ticks
}

// seriesColor gives each workload a colour; native and seqshim of one
// workload share it (native is dashed).
func seriesColor(name string) color.Color {
	workload, _, _ := strings.Cut(name, "/")
	switch workload {
	case "nextval":
		return color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	case "insert":
		return color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	case "insert-bigserial":
		return color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	case "dynamodb-updateitem":
		return color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	case "cache-next":
		return color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	}
	h := 0
	for _, c := range workload {
		h = h*31 + int(c)
	}
	return color.RGBA{R: uint8(h), G: uint8(h >> 8), B: uint8(h >> 16), A: 0xff}
}

// createFile creates file, and its directory when missing.
func createFile(file string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return nil, err
	}
	return os.Create(file)
}
