using System.Globalization;
using System.Text;
using System.Xml;

namespace EgressLab.LoadTests.Reports;

/// <summary>How an axis turns values into distance.</summary>
internal enum AxisScale
{
    Linear,

    /// <summary>Base-10 logarithm: a decade takes the same room wherever it is.</summary>
    Logarithmic,

    /// <summary>
    /// Percentiles p (0 ≤ p &lt; 1) placed by log10(1/(1−p)): 0%, 90%, 99%, 99.9% are equally spaced, so the tail,
    /// where the paths differ, is not squeezed into the last pixel.
    /// </summary>
    Percentile,
}

/// <summary>An axis: its label (with the unit) and scale; the range comes from the data unless given.</summary>
internal sealed record ChartAxis(string Label, AxisScale Scale = AxisScale.Linear)
{
    /// <summary>The lowest value shown. The default is from the data: zero for a linear axis over values that are
    /// not negative, the 1, 2 or 5 times a power of ten below the least value for a logarithmic one, 0% for percentiles.</summary>
    public double? Min { get; init; }

    /// <summary>The highest value shown. The default is from the data, rounded up to a tick.</summary>
    public double? Max { get; init; }
}

/// <summary>A data point; a hollow one is drawn as a ring (for example a saturated step of a rate ladder).</summary>
internal readonly record struct ChartPoint(double X, double Y, bool Hollow = false);

/// <summary>One line of a chart. <paramref name="Key"/> identifies it in the markup (data-series); <paramref name="Label"/> is shown.</summary>
internal sealed record ChartSeries(string Key, string Label, IReadOnlyList<ChartPoint> Points)
{
    /// <summary>Draw a marker at every point, not only when there is a single one.</summary>
    public bool Markers { get; init; }
}

/// <summary>
/// A line chart as one self-contained SVG element: title, axes with ticks and labels, one polyline per series
/// (as many points as the series has), a legend naming every series, and a message in place of lines when there is
/// no data. Text is XML-escaped, so the output parses as XML on its own and inside an XHTML-compatible page.
/// </summary>
internal sealed class SvgChart
{
    public const string Namespace = "http://www.w3.org/2000/svg";

    // Okabe–Ito colours, distinguishable with the common colour-vision deficiencies; yellow swapped for a darker
    // wine, which reads on white. Past eight series the dash pattern changes instead.
    private static readonly string[] Palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#882255"];
    private static readonly string[] Dashes = ["", "6 3", "2 3", "8 3 2 3"];

    private const double Left = 76;
    private const double Right = 24;
    private const double Top = 58;
    private const double BelowPlot = 62;
    private const double LegendRow = 20;
    private const double CharacterWidth = 6.8;

    private readonly (double Min, double Max) _xRange;
    private readonly (double Min, double Max) _yRange;

    public SvgChart(string title, ChartAxis x, ChartAxis y, IReadOnlyList<ChartSeries> series)
    {
        Title = title;
        X = x;
        Y = y;
        Series = series;
        _xRange = Range(x, series.SelectMany(s => s.Points).Select(p => p.X));
        _yRange = Range(y, series.SelectMany(s => s.Points).Select(p => p.Y));
    }

    public string Title { get; }
    public ChartAxis X { get; }
    public ChartAxis Y { get; }
    public IReadOnlyList<ChartSeries> Series { get; }

    /// <summary>A line under the title: what the data is and how it was reduced.</summary>
    public string? Note { get; init; }

    /// <summary>Shown in the plot when no series has a point. The default is "no data".</summary>
    public string EmptyMessage { get; init; } = "no data";

    /// <summary>The default is 760 (CSS pixels; the page scales the chart down on narrow screens).</summary>
    public double Width { get; init; } = 760;

    /// <summary>The plot area's height. The default is 280.</summary>
    public double PlotHeight { get; init; } = 280;

    private double PlotWidth => Width - Left - Right;

    /// <summary>The horizontal position of a value, clamped to the plot area.</summary>
    public double MapX(double value) => Left + (Fraction(X.Scale, _xRange, value) * PlotWidth);

    /// <summary>The vertical position of a value (SVG y grows downwards), clamped to the plot area.</summary>
    public double MapY(double value) => Top + PlotHeight - (Fraction(Y.Scale, _yRange, value) * PlotHeight);

    /// <summary>The ticks of an axis: value and label.</summary>
    public IReadOnlyList<(double Value, string Label)> Ticks(ChartAxis axis) => Ticks(axis.Scale, ReferenceEquals(axis, X) ? _xRange : _yRange);

    /// <summary>Escapes text for XML content and attribute values; characters XML cannot hold become U+FFFD.</summary>
    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '&': builder.Append("&amp;"); break;
                case '<': builder.Append("&lt;"); break;
                case '>': builder.Append("&gt;"); break;
                case '"': builder.Append("&quot;"); break;
                case '\'': builder.Append("&#39;"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && XmlConvert.IsXmlSurrogatePair(text[i + 1], c))
                    {
                        builder.Append(c).Append(text[++i]);
                    }
                    else
                    {
                        builder.Append(XmlConvert.IsXmlChar(c) ? c : '\uFFFD');
                    }

                    break;
            }
        }

        return builder.ToString();
    }

    public string Render()
    {
        var legend = LegendLayout();
        var height = Top + PlotHeight + BelowPlot + (legend.Rows * LegendRow) + 8;
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"{Namespace}\" class=\"chart\" width=\"{N(Width)}\" height=\"{N(height)}\" viewBox=\"0 0 {N(Width)} {N(height)}\" role=\"img\" font-family=\"system-ui, sans-serif\" font-size=\"12\">\n");
        svg.Append($"<title>{Escape(Title)}</title>\n");
        svg.Append($"<rect width=\"{N(Width)}\" height=\"{N(height)}\" fill=\"#ffffff\"/>\n");
        svg.Append($"<text class=\"chart-title\" x=\"{N(Left)}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{Escape(Title)}</text>\n");
        if (Note is not null)
        {
            svg.Append($"<text class=\"chart-note\" x=\"{N(Left)}\" y=\"40\" fill=\"#555555\">{Escape(Note)}</text>\n");
        }

        var bottom = Top + PlotHeight;
        svg.Append("<g class=\"axes\" stroke-width=\"1\">\n");
        foreach (var (value, label) in Ticks(X))
        {
            var x = MapX(value);
            svg.Append($"<line x1=\"{N(x)}\" y1=\"{N(Top)}\" x2=\"{N(x)}\" y2=\"{N(bottom)}\" stroke=\"#e3e3e3\"/>");
            svg.Append($"<text x=\"{N(x)}\" y=\"{N(bottom + 16)}\" text-anchor=\"middle\">{Escape(label)}</text>\n");
        }

        foreach (var (value, label) in Ticks(Y))
        {
            var y = MapY(value);
            svg.Append($"<line x1=\"{N(Left)}\" y1=\"{N(y)}\" x2=\"{N(Left + PlotWidth)}\" y2=\"{N(y)}\" stroke=\"#e3e3e3\"/>");
            svg.Append($"<text x=\"{N(Left - 6)}\" y=\"{N(y + 4)}\" text-anchor=\"end\">{Escape(label)}</text>\n");
        }

        svg.Append($"<rect x=\"{N(Left)}\" y=\"{N(Top)}\" width=\"{N(PlotWidth)}\" height=\"{N(PlotHeight)}\" fill=\"none\" stroke=\"#888888\"/>\n");
        svg.Append($"<text class=\"x-label\" x=\"{N(Left + (PlotWidth / 2))}\" y=\"{N(bottom + 36)}\" text-anchor=\"middle\">{Escape(X.Label)}</text>\n");
        svg.Append($"<text class=\"y-label\" transform=\"translate(16 {N(Top + (PlotHeight / 2))}) rotate(-90)\" text-anchor=\"middle\">{Escape(Y.Label)}</text>\n");
        svg.Append("</g>\n");

        for (var i = 0; i < Series.Count; i++)
        {
            AppendSeries(svg, i);
        }

        if (Series.All(s => s.Points.Count == 0))
        {
            svg.Append($"<text class=\"empty\" x=\"{N(Left + (PlotWidth / 2))}\" y=\"{N(Top + (PlotHeight / 2))}\" text-anchor=\"middle\" font-size=\"14\" fill=\"#555555\">{Escape(EmptyMessage)}</text>\n");
        }

        svg.Append("<g class=\"legend\">\n");
        foreach (var (index, x, row) in legend.Items)
        {
            var series = Series[index];
            var y = bottom + BelowPlot + (row * LegendRow);
            var label = series.Points.Count == 0 ? series.Label + " (no data)" : series.Label;
            svg.Append($"<g class=\"legend-item\" data-series=\"{Escape(series.Key)}\">");
            svg.Append($"<line x1=\"{N(x)}\" y1=\"{N(y - 4)}\" x2=\"{N(x + 22)}\" y2=\"{N(y - 4)}\"{Stroke(index)} stroke-width=\"3\"/>");
            svg.Append($"<text x=\"{N(x + 28)}\" y=\"{N(y)}\">{Escape(label)}</text></g>\n");
        }

        svg.Append("</g>\n</svg>");
        return svg.ToString();
    }

    private void AppendSeries(StringBuilder svg, int index)
    {
        var series = Series[index];
        if (series.Points.Count == 0)
        {
            return;
        }

        var color = Palette[index % Palette.Length];
        svg.Append($"<g class=\"series\" data-series=\"{Escape(series.Key)}\">\n");
        svg.Append($"<polyline fill=\"none\"{Stroke(index)} stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
        for (var i = 0; i < series.Points.Count; i++)
        {
            var point = series.Points[i];
            svg.Append(i == 0 ? "" : " ").Append(N(MapX(point.X))).Append(',').Append(N(MapY(point.Y)));
        }

        svg.Append("\"/>\n");
        if (series.Markers || series.Points.Count == 1)
        {
            foreach (var point in series.Points)
            {
                var fill = point.Hollow ? "#ffffff" : color;
                svg.Append($"<circle cx=\"{N(MapX(point.X))}\" cy=\"{N(MapY(point.Y))}\" r=\"3.5\" fill=\"{fill}\" stroke=\"{color}\" stroke-width=\"1.5\"/>");
            }

            svg.Append('\n');
        }

        svg.Append("</g>\n");
    }

    private static string Stroke(int index)
    {
        var dash = Dashes[index / Palette.Length % Dashes.Length];
        return $" stroke=\"{Palette[index % Palette.Length]}\"" + (dash.Length == 0 ? "" : $" stroke-dasharray=\"{dash}\"");
    }

    private (int Rows, List<(int Index, double X, int Row)> Items) LegendLayout()
    {
        var items = new List<(int, double, int)>();
        double x = Left;
        var row = 0;
        for (var i = 0; i < Series.Count; i++)
        {
            var label = Series[i].Points.Count == 0 ? Series[i].Label + " (no data)" : Series[i].Label;
            var width = 28 + (label.Length * CharacterWidth) + 18;
            if (x > Left && x + width > Width - Right)
            {
                row++;
                x = Left;
            }

            items.Add((i, x, row));
            x += width;
        }

        return (items.Count == 0 ? 0 : row + 1, items);
    }

    private static double Fraction(AxisScale scale, (double Min, double Max) range, double value)
    {
        var low = Transform(scale, range.Min);
        var high = Transform(scale, range.Max);
        var fraction = (Transform(scale, value) - low) / (high - low);
        return double.IsFinite(fraction) ? Math.Clamp(fraction, 0, 1) : 0;
    }

    private static double Transform(AxisScale scale, double value) => scale switch
    {
        AxisScale.Logarithmic => Math.Log10(Math.Max(value, double.Epsilon)),

        // 1 − 1e-9 caps the transform at 9 nines, so 100% stays finite (at the right edge, clamped).
        AxisScale.Percentile => -Math.Log10(1 - Math.Clamp(value, 0, 1 - 1e-9)),
        _ => value,
    };

    private static (double Min, double Max) Range(ChartAxis axis, IEnumerable<double> data)
    {
        var values = data.Where(double.IsFinite).ToList();
        switch (axis.Scale)
        {
            case AxisScale.Logarithmic:
            {
                var positive = values.Where(v => v > 0).ToList();
                var min = axis.Min ?? (positive.Count == 0 ? 1 : RoundLog(positive.Min(), up: false));
                var max = axis.Max ?? (positive.Count == 0 ? 10 : RoundLog(positive.Max(), up: true));
                return max > min ? (min, max) : (min, min * 10);
            }

            case AxisScale.Percentile:
            {
                var min = axis.Min ?? 0;
                var max = axis.Max ?? Math.Max(0.9, values.Count == 0 ? 0 : values.Max());
                return (min, Math.Max(max, min + 1e-6));
            }

            default:
            {
                var min = axis.Min ?? (values.Count == 0 || values.Min() >= 0 ? 0 : values.Min());
                var max = axis.Max ?? (values.Count == 0 ? 1 : values.Max());
                if (max <= min)
                {
                    max = min + 1;
                }

                var step = NiceStep((max - min) / 5);
                return (axis.Min ?? Math.Floor(min / step) * step, axis.Max ?? Math.Ceiling(max / step) * step);
            }
        }
    }

    private static List<(double Value, string Label)> Ticks(AxisScale scale, (double Min, double Max) range)
    {
        var ticks = new List<(double, string)>();
        switch (scale)
        {
            case AxisScale.Logarithmic:
            {
                var first = (int)Math.Floor(Math.Log10(range.Min) + 1e-9);
                var last = (int)Math.Ceiling(Math.Log10(range.Max) - 1e-9);

                // Over two decades or fewer, 2 and 5 between the powers of ten keep the axis readable; over more,
                // the powers of ten and the two ends.
                var dense = Math.Log10(range.Max / range.Min) <= 2 + 1e-9;
                for (var exponent = first; exponent <= last; exponent++)
                {
                    foreach (var multiple in new[] { 1, 2, 5 })
                    {
                        var value = multiple * Math.Pow(10, exponent);
                        var end = Math.Abs(value / range.Min - 1) < 1e-9 || Math.Abs(value / range.Max - 1) < 1e-9;
                        if ((multiple == 1 || dense || end) && value >= range.Min * (1 - 1e-9) && value <= range.Max * (1 + 1e-9))
                        {
                            ticks.Add((value, Number(value)));
                        }
                    }
                }

                break;
            }

            case AxisScale.Percentile:
            {
                var high = Transform(scale, range.Max);
                for (var nines = 0; nines <= high + 1e-9; nines++)
                {
                    var value = 1 - Math.Pow(10, -nines);
                    if (value >= range.Min - 1e-12)
                    {
                        ticks.Add((value, (value * 100).ToString("0.#####", CultureInfo.InvariantCulture) + "%"));
                    }
                }

                break;
            }

            default:
            {
                var step = NiceStep((range.Max - range.Min) / 5);
                var count = (int)Math.Round((range.Max - range.Min) / step);
                for (var i = 0; i <= count; i++)
                {
                    var value = range.Min + (i * step);
                    if (value <= range.Max + (step * 1e-9))
                    {
                        ticks.Add((value, Number(value)));
                    }
                }

                break;
            }
        }

        return ticks;
    }

    // The next 1, 2 or 5 times a power of ten below (or above) a value: a log axis ends near its data.
    private static double RoundLog(double value, bool up)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        var candidates = new[] { power, 2 * power, 5 * power, 10 * power };
        return up
            ? candidates.First(c => c >= value * (1 - 1e-12))
            : candidates.Last(c => c <= value * (1 + 1e-12));
    }

    // 1, 2 or 5 times a power of ten: steps people read at a glance.
    private static double NiceStep(double rough)
    {
        if (!(rough > 0) || !double.IsFinite(rough))
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var fraction = rough / power;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
    }

    private static string Number(double value) => (Math.Abs(value) < 1e-12 ? 0 : value).ToString("#,0.###", CultureInfo.InvariantCulture);

    // Coordinates to a tenth of a pixel: enough for a crisp line, and stable text for identical input.
    private static string N(double value) => (Math.Round(value, 1) is var rounded && rounded == 0 ? 0 : rounded).ToString("0.#", CultureInfo.InvariantCulture);
}
