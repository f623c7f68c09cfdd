using System.Xml.Linq;
using EgressLab.LoadTests.Reports;

namespace EgressLab.LoadTests.Tests.Reports;

public sealed class SvgChartTests
{
    private static readonly XNamespace Svg = SvgChart.Namespace;

    private static SvgChart Chart(ChartAxis x, ChartAxis y, params ChartSeries[] series) => new("test", x, y, series);

    private static ChartSeries Line(string key, params (double X, double Y)[] points) => new(key, key, points.Select(p => new ChartPoint(p.X, p.Y)).ToList());

    [Fact]
    public void MapX_PercentileAxis_IsMonotonic()
    {
        var chart = Chart(new ChartAxis("p", AxisScale.Percentile) { Max = 0.9999 }, new ChartAxis("ms"));

        var previous = double.NegativeInfinity;
        for (var i = 0; i <= 1000; i++)
        {
            var p = 0.9999 * i / 1000;
            var x = chart.MapX(p);
            Assert.True(x > previous, $"MapX({p}) = {x} is not right of {previous}");
            previous = x;
        }
    }

    [Fact]
    public void MapX_PercentileAxis_PlacesEachNineAtEqualSpacing()
    {
        var chart = Chart(new ChartAxis("p", AxisScale.Percentile) { Max = 0.9999 }, new ChartAxis("ms"));

        var xs = new[] { 0, 0.9, 0.99, 0.999, 0.9999 }.Select(chart.MapX).ToArray();

        var spacing = xs[1] - xs[0];
        Assert.True(spacing > 100);
        for (var i = 2; i < xs.Length; i++)
        {
            Assert.Equal(spacing, xs[i] - xs[i - 1], 6);
        }
    }

    [Fact]
    public void Ticks_PercentileAxis_AreLabelledAsPercentages()
    {
        var x = new ChartAxis("p", AxisScale.Percentile) { Max = 0.9999 };
        var chart = Chart(x, new ChartAxis("ms"));

        Assert.Equal(["0%", "90%", "99%", "99.9%", "99.99%"], chart.Ticks(x).Select(t => t.Label));
    }

    [Fact]
    public void MapY_LogarithmicAxis_GivesEveryDecadeTheSameHeight()
    {
        var y = new ChartAxis("ms", AxisScale.Logarithmic);
        var chart = Chart(new ChartAxis("x"), y, Line("a", (0, 0.1), (1, 1000)));

        Assert.Equal(["0.1", "1", "10", "100", "1,000"], chart.Ticks(y).Select(t => t.Label));
        var ys = new[] { 0.1, 1, 10, 100, 1000 }.Select(chart.MapY).ToArray();
        for (var i = 1; i < ys.Length; i++)
        {
            Assert.True(ys[i] < ys[i - 1], "larger values sit higher");
            Assert.Equal(ys[1] - ys[0], ys[i] - ys[i - 1], 6);
        }
    }

    [Theory]
    [InlineData(0.45, 12.0, new[] { "0.2", "0.5", "1", "2", "5", "10", "20" })]
    [InlineData(2.9, 1450.0, new[] { "2", "10", "100", "1,000", "2,000" })]
    [InlineData(3.0, 10.0, new[] { "2", "5", "10" })]
    public void Ticks_LogarithmicAxis_EndNearTheDataOnOneTwoOrFive(double least, double most, string[] expected)
    {
        var y = new ChartAxis("ms", AxisScale.Logarithmic);
        var chart = Chart(new ChartAxis("x"), y, Line("a", (0, least), (1, most)));

        Assert.Equal(expected, chart.Ticks(y).Select(t => t.Label));
    }

    [Fact]
    public void Ticks_LinearAxis_StartAtZeroAndUseRoundSteps()
    {
        var x = new ChartAxis("rate");
        var chart = Chart(x, new ChartAxis("ms"), Line("a", (250, 1), (8000, 2)));

        Assert.Equal(["0", "2,000", "4,000", "6,000", "8,000"], chart.Ticks(x).Select(t => t.Label));
    }

    [Fact]
    public void Render_TextWithMarkupCharacters_IsEscapedAndParsesBack()
    {
        var chart = new SvgChart("a <b> & 'c' \"d\"", new ChartAxis("x <&>"), new ChartAxis("y & z"), [Line("<&>", (0, 1), (1, 2))]) { Note = "n < m" };

        var text = chart.Render();
        var svg = XElement.Parse(text);

        Assert.Contains("&lt;&amp;&gt;", text, StringComparison.Ordinal);
        Assert.Equal("a <b> & 'c' \"d\"", svg.Element(Svg + "title")!.Value);
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "x <&>");
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "n < m");
        var legend = svg.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "legend-item");
        Assert.Equal("<&>", (string?)legend.Attribute("data-series"));
        Assert.Equal("<&>", legend.Element(Svg + "text")!.Value);
    }

    [Theory]
    [InlineData("bell\u0007", "bell\uFFFD")]
    [InlineData("pair \uD83D\uDE80 kept", "pair \uD83D\uDE80 kept")]
    [InlineData("<&>\"'", "&lt;&amp;&gt;&quot;&#39;")]
    public void Escape_CharactersXmlCannotHold_AreReplaced(string text, string expected)
    {
        Assert.Equal(expected, SvgChart.Escape(text));
    }

    [Fact]
    public void Escape_LoneSurrogate_IsReplaced()
    {
        // Built here: a lone surrogate does not survive as attribute data.
        var text = "lone " + new string((char)0xD800, 1) + " surrogate";

        Assert.Equal("lone \uFFFD surrogate", SvgChart.Escape(text));
    }

    [Fact]
    public void Render_OneEmptySeries_LegendNamesItAndNoLineIsDrawnForIt()
    {
        var chart = Chart(new ChartAxis("x"), new ChartAxis("y"), Line("full", (0, 1), (1, 2), (2, 3)), Line("empty"));

        var svg = XElement.Parse(chart.Render());

        var polyline = Assert.Single(svg.Descendants(Svg + "polyline"));
        Assert.Equal("full", (string?)polyline.Parent!.Attribute("data-series"));
        var legend = svg.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "legend-item").ToList();
        Assert.Equal(["full", "empty"], legend.Select(g => (string?)g.Attribute("data-series")));
        Assert.Equal("empty (no data)", legend[1].Element(Svg + "text")!.Value);
        Assert.DoesNotContain(svg.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "empty");
    }

    [Fact]
    public void Render_NoPointsAtAll_ShowsTheEmptyMessage()
    {
        var chart = new SvgChart("ladder", new ChartAxis("x"), new ChartAxis("y", AxisScale.Logarithmic), [Line("a"), Line("b")]) { EmptyMessage = "no rate ladder was run" };

        var svg = XElement.Parse(chart.Render());

        Assert.Empty(svg.Descendants(Svg + "polyline"));
        Assert.Equal("no rate ladder was run", svg.Descendants(Svg + "text").Single(t => (string?)t.Attribute("class") == "empty").Value);
        Assert.Equal(2, svg.Descendants(Svg + "g").Count(g => (string?)g.Attribute("class") == "legend-item"));
    }

    [Fact]
    public void Render_NoSeries_StillRendersAxesAndTitle()
    {
        var svg = XElement.Parse(Chart(new ChartAxis("x"), new ChartAxis("y")).Render());

        Assert.Equal("test", svg.Element(Svg + "title")!.Value);
        Assert.Contains(svg.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "empty");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(43)]
    public void Render_Series_PolylineHasOnePointPerDataPoint(int count)
    {
        var points = Enumerable.Range(0, count).Select(i => ((double)i, (double)(i * i) + 1)).ToArray();
        var svg = XElement.Parse(Chart(new ChartAxis("x"), new ChartAxis("y"), Line("a", points)).Render());

        var polyline = Assert.Single(svg.Descendants(Svg + "polyline"));
        Assert.Equal(count, ((string)polyline.Attribute("points")!).Split(' ').Length);
        Assert.Equal(count == 1 ? 1 : 0, svg.Descendants(Svg + "circle").Count());
    }

    [Fact]
    public void Render_NineSeries_ColourOrDashTellsEveryOneApart()
    {
        var series = Enumerable.Range(0, 9).Select(i => Line($"s{i}", (0, i + 1), (1, i + 2))).ToArray();
        var svg = XElement.Parse(Chart(new ChartAxis("x"), new ChartAxis("y"), series).Render());

        var styles = svg.Descendants(Svg + "polyline").Select(p => $"{p.Attribute("stroke")?.Value}/{p.Attribute("stroke-dasharray")?.Value}").ToList();
        Assert.Equal(9, styles.Distinct().Count());
    }

    [Fact]
    public void Render_HollowPoints_AreRings()
    {
        var series = new ChartSeries("a", "a", [new ChartPoint(1, 1), new ChartPoint(2, 2, Hollow: true)]) { Markers = true };
        var svg = XElement.Parse(Chart(new ChartAxis("x"), new ChartAxis("y"), series).Render());

        var fills = svg.Descendants(Svg + "circle").Select(c => (string?)c.Attribute("fill")).ToList();
        Assert.Equal(2, fills.Count);
        Assert.NotEqual("#ffffff", fills[0]);
        Assert.Equal("#ffffff", fills[1]);
    }
}
