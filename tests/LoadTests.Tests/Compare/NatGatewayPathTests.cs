using System.Net;
using System.Net.Sockets;
using System.Text;
using EgressLab.LoadTests.Cli;
using EgressLab.LoadTests.Compare;
using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;
using EgressLab.LoadTests.Tests.Reports;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Topology;

namespace EgressLab.LoadTests.Tests.Compare;

/// <summary>The l4-natgw path and the NAT gateway probes: how compare wires them, and what the probes see over real sockets.</summary>
public sealed class NatGatewayPathTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static TopologyModel Load(string file)
    {
        var loaded = TopologyLoader.Load(Path.Combine(AppContext.BaseDirectory, "topologies", file));
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        return loaded.Model!;
    }

    [Fact]
    public void From_NatGatewayTopology_AddsL4NatgwFromTheHostOfTheGatewaysSubnet()
    {
        var model = Load("nat-gateway.yaml");
        var environment = new LabEnvironment("eltest-paths", "/run/eltest-paths");

        var paths = LabPaths.From(environment, model, WalkthroughPlan.From(model), []);

        Assert.Equal(["l3", "l4", "l4-natgw", "l7"], paths.Select(p => p.Path.Id));
        var natgw = paths.Single(p => p.Path.Id == "l4-natgw");
        Assert.Equal(("L4", "private-3", "eltest-paths-private-3", false), (natgw.Path.Layer, natgw.Path.Client, natgw.Namespace, natgw.ThroughProxy));
        Assert.Equal("private-1", paths.Single(p => p.Path.Id == "l4").Path.Client);
    }

    [Fact]
    public void From_DefaultTopology_HasNoNatGatewayPath()
    {
        var model = Load("default.yaml");

        var paths = LabPaths.From(new LabEnvironment("eltest-paths", "/run/eltest-paths"), model, WalkthroughPlan.From(model), []);

        Assert.Equal(["l3", "l4", "l7"], paths.Select(p => p.Path.Id));
    }

    [Fact]
    public void LabFor_VariablesUnset_LowersTheGatewaysLimitsSoTheProbesTakeSeconds()
    {
        var lab = CompareCommand.LabFor(_ => null);

        Assert.Equal(new NatGatewayEmulation(TimeSpan.FromSeconds(5), 100), lab.NatGateway);
    }

    [Fact]
    public void LabFor_VariablesSet_KeepsWhatTheySay()
    {
        var variables = new Dictionary<string, string>
        {
            [NatGatewayEmulation.IdleTimeoutVariable] = "9",
            [NatGatewayEmulation.ConnectionsPerDestinationVariable] = "40",
        };
        var emulation = NatGatewayEmulation.FromVariables(n => variables.GetValueOrDefault(n), []);

        Assert.Equal(new NatGatewayEmulation(TimeSpan.FromSeconds(9), 40), emulation);
        Assert.Equal(NatGatewayEmulation.Aws.IdleTimeout, CompareCommand.LabFor(n => n == NatGatewayEmulation.IdleTimeoutVariable ? "350" : null).NatGateway.IdleTimeout);
    }

    [Fact]
    public async Task DestinationLimitAsync_NoLimitOnThePath_OpensEveryConnectionAndTheSecondDestination()
    {
        using var first = Listen();
        using var second = Listen();

        var result = await NatGatewayProbes.DestinationLimitAsync(Endpoint(first), Endpoint(second), 20, TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal((20, 20, 0, true), (result.Attempts, result.Opened, result.Failed, result.SecondDestinationOpened));
    }

    [Fact]
    public async Task DestinationLimitAsync_SecondDestinationRefuses_SaysItFailed()
    {
        using var first = Listen();
        var closedPort = ClosedPort();

        var result = await NatGatewayProbes.DestinationLimitAsync(Endpoint(first), closedPort, 3, TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(3, result.Opened);
        Assert.False(result.SecondDestinationOpened);
    }

    [Theory]
    [InlineData(false, "Answered")]
    [InlineData(true, "Reset")]
    public async Task IdleTimeoutAsync_AfterTheIdleTime_ReportsWhatCameBack(bool resetAfterFirst, string expected)
    {
        using var listener = Listen();
        var server = ServeHeadAsync(listener, resetAfterFirst, TestContext.Current.CancellationToken);

        var result = await NatGatewayProbes.IdleTimeoutAsync(Endpoint(listener), "checkip.lab.test", TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken)
            .WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(Enum.Parse<IdleOutcome>(expected), result.Outcome);
        Assert.Equal(0.3, result.IdleSeconds, 3);
        await server.WaitAsync(Bound, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task IdleTimeoutAsync_NothingListens_SaysItCouldNotStart()
    {
        var closed = ClosedPort();

        var result = await NatGatewayProbes.IdleTimeoutAsync(closed, "x", TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(IdleOutcome.Failed, result.Outcome);
    }

    [Fact]
    public void Render_WithProbes_ShowsBothTablesTheLoweredLimitsAndTheCaveats()
    {
        var results = WithProbes(CompareFixture.Create());

        var markdown = MarkdownReport.Render(results);
        var html = HtmlReport.Render(results);

        Assert.Contains("## NAT gateway limits", markdown, StringComparison.Ordinal);
        Assert.Contains("idle timeout of 5 s (AWS: 350 s) and a limit of 100 simultaneous connections per destination (AWS: 55,000)", markdown, StringComparison.Ordinal);
        Assert.Contains("| l4 | 198.51.100.20:80 | 110 | 100 | 10 | 198.51.100.10:80: opened | limit: 100 to one destination, the rest failed; another destination still opened |", markdown, StringComparison.Ordinal);
        Assert.Contains("| l3 | 198.51.100.10:80 | 7 s | Answered: HTTP/1.1 200 OK | the path kept the idle connection |", markdown, StringComparison.Ordinal);
        Assert.Contains("Not emulated: the gateway", markdown, StringComparison.Ordinal);
        Assert.Contains("<section id=\"natgw-limits\">", html, StringComparison.Ordinal);
        Assert.Contains("data-path=\"l4\"", html[html.IndexOf("natgw-limits", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Empty(CompareResultsValidator.Validate(results));
    }

    [Fact]
    public void Render_WithoutProbes_HasNoNatGatewaySection()
    {
        Assert.DoesNotContain("NAT gateway limits", MarkdownReport.Render(CompareFixture.Create()), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ProbeOnUnknownPathOrWithBothResults_IsReported()
    {
        var results = WithProbes(CompareFixture.Create());
        var broken = results with
        {
            Probes =
            [
                results.Probes[0] with { PathId = "l9" },
                results.Probes[0] with { Idle = results.Probes[^1].Idle },
            ],
        };

        var problems = CompareResultsValidator.Validate(broken);

        Assert.Contains(problems, p => p.Contains("probes[0] names path 'l9'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("probes[1]", StringComparison.Ordinal) && p.Contains("exactly one of limit and idle", StringComparison.Ordinal));
    }

    // The fixture's l4 stands in for a NAT gateway path here: what matters is how a probe result is shown.
    private static CompareResults WithProbes(CompareResults results) => results with
    {
        NatGateway = new NatGatewayLimits(5, 100),
        Probes =
        [
            new ProbeCell("l3", NatGatewayProbes.DestinationLimit, Limit: new DestinationLimitResult("198.51.100.20:80", 110, 110, 3, "198.51.100.10:80", true)),
            new ProbeCell("l4", NatGatewayProbes.DestinationLimit, Limit: new DestinationLimitResult("198.51.100.20:80", 110, 100, 3, "198.51.100.10:80", true)),
            new ProbeCell("l3", NatGatewayProbes.IdleTimeout, Idle: new IdleTimeoutResult("198.51.100.10:80", 7, IdleOutcome.Answered, "HTTP/1.1 200 OK")),
            new ProbeCell("l4", NatGatewayProbes.IdleTimeout, Idle: new IdleTimeoutResult("198.51.100.10:80", 7, IdleOutcome.Reset, "connection reset (ConnectionReset)")),
        ],
    };

    private static TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(64);
        return listener;
    }

    private static IPEndPoint Endpoint(TcpListener listener) => (IPEndPoint)listener.LocalEndpoint;

    /// <summary>A loopback port nothing listens on: one that was just given out and closed again.</summary>
    private static IPEndPoint ClosedPort()
    {
        using var listener = Listen();
        var endpoint = Endpoint(listener);
        listener.Stop();
        return endpoint;
    }

    /// <summary>Answers HEAD requests on one connection; with <paramref name="resetAfterFirst"/>, aborts it with a reset once the first is answered.</summary>
    private static async Task ServeHeadAsync(TcpListener listener, bool resetAfterFirst, CancellationToken cancellationToken)
    {
        using var client = await listener.AcceptTcpClientAsync(cancellationToken);
        var stream = client.GetStream();
        var buffer = new byte[1024];
        var answer = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\n");
        for (var request = 0; request < 2; request++)
        {
            var seen = new StringBuilder();
            while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            await stream.WriteAsync(answer, cancellationToken);
            if (resetAfterFirst)
            {
                // Linger 0: closing sends a reset, as a NAT gateway does for a connection it has forgotten.
                client.Client.LingerState = new LingerOption(true, 0);
                client.Client.Close();
                return;
            }
        }
    }
}
