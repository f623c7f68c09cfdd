namespace EgressLab.ProxyInstance.Tests.Metrics;

/// <summary>The test parser must reject what Prometheus would, or the exporter tests prove nothing.</summary>
public sealed class PrometheusTextTests
{
    [Fact]
    public void Parse_WellFormed_ReadsSamples()
    {
        var text = PrometheusText.Parse(
            "# HELP a_total A \\\\ b\\nc\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\\\\\n\"} 3\n" +
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1.5e0\nh_count 2\n");

        Assert.Equal("A \\ b\nc", text.Help["a_total"]);
        Assert.Equal(3, text.Value("a_total", ("x", "1"), ("y", "q\"\\\n")));
        Assert.Equal(2, text.Value("h_count"));
    }

    [Theory]
    [InlineData("# TYPE a counter\na 1")]
    [InlineData("a 1\n")]
    [InlineData("# TYPE a counter\na  1\n")]
    [InlineData("# TYPE a counter\na 1 1700000000\n")]
    [InlineData("# TYPE a counter\na one\n")]
    [InlineData("# TYPE a counter\na{x=\"1\",} 1\n")]
    [InlineData("# TYPE a counter\na{x=\"1\",x=\"2\"} 1\n")]
    [InlineData("# TYPE a counter\na{1x=\"1\"} 1\n")]
    [InlineData("# TYPE a counter\na{x=\"\\t\"} 1\n")]
    [InlineData("# TYPE a counter\na{x=\"1\"} 1\na{x=\"1\"} 2\n")]
    [InlineData("# TYPE a counter\n# TYPE a counter\na 1\n")]
    [InlineData("# TYPE a counter\na 1\n# TYPE b counter\nb 1\na{x=\"2\"} 1\n")]
    [InlineData("# TYPE a counter\n# comment\na 1\n")]
    [InlineData("# TYPE a widget\na 1\n")]
    [InlineData("# TYPE a counter\r\na 1\r\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n")]
    [InlineData("# TYPE a counter\na{x=\"1\"\n")]
    public void Parse_Malformed_Throws(string exposition)
    {
        Assert.Throws<FormatException>(() => PrometheusText.Parse(exposition));
    }
}
