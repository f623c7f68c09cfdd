using System.Globalization;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Tests.Topology;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Lab;

/// <summary>
/// The lab's NAT gateway, brought up from nat-gateway.yaml with its idle timer and per-destination limit lowered so
/// each behaviour shows in seconds: translation to its address and ports 1024-65535, the reset after the idle time,
/// the limit per destination with a second destination still open, and nothing reachable on its port 22.
/// </summary>
[Collection(LabTestGroup.Name)]
public sealed class LabNatGatewayTests
{
    private const int IdleSeconds = 3;
    private const int Limit = 5;

    private static readonly Dictionary<string, string> Lowered = new()
    {
        [NatGatewayEmulation.IdleTimeoutVariable] = IdleSeconds.ToString(CultureInfo.InvariantCulture),
        [NatGatewayEmulation.ConnectionsPerDestinationVariable] = Limit.ToString(CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task NatGateway_InTheLab_BehavesAsAwsDocumentsIt()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();
        try
        {
            var up = await lab.RunAsync(["lab", "up", "--topology", NatGatewayTopologyTests.NatGatewayTopologyPath], Lowered);
            Assert.True(up.ExitCode == 0, up.Output);

            // lab status reads the limits from the gateway's namespace.
            var status = await lab.RunAsync("lab", "status");
            Assert.Contains(status.Output.Split('\n'), l => l.StartsWith("natgw", StringComparison.Ordinal) && l.Contains("203.0.113.20", StringComparison.Ordinal)
                && l.Contains($"idle timeout {IdleSeconds} s, {Limit} connections per destination", StringComparison.Ordinal));

            // Its Elastic IP, and a source port below 1024 comes out from 1024-65535.
            var seen = await lab.RunAsync("lab", "exec", "private-3", "--", "curl", "-s", "-m", "3", "--local-port", "600-700", "http://checkip.lab.test/");
            Assert.True(seen.ExitCode == 0, seen.Output);
            var (address, port) = (seen.Output.Trim().Split(':')[0], int.Parse(seen.Output.Trim().Split(':')[1], CultureInfo.InvariantCulture));
            Assert.Equal("203.0.113.20", address);
            Assert.InRange(port, 1024, 65535);

            // Nothing answers on port 22, from the VPC or from the internet.
            Assert.Equal(124, (await Bash(lab, "private-3", "timeout 3 bash -c 'exec 3<>/dev/tcp/10.10.1.50/22'")).ExitCode);
            Assert.Equal(124, (await Bash(lab, "internet", "timeout 3 bash -c 'exec 3<>/dev/tcp/203.0.113.20/22'")).ExitCode);

            // A keep-alive connection left idle past the timer: the next request is answered with a reset.
            var idle = await Bash(lab, "private-3", IdleScript(IdleSeconds + 2));
            Assert.Contains("Connection reset by peer", idle.Output, StringComparison.Ordinal);
            // Within the timer the same connection is kept.
            var busy = await Bash(lab, "private-3", IdleScript(1));
            Assert.Contains("HTTP/1.1 200 OK", busy.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("reset", busy.Output, StringComparison.Ordinal);

            // Limit + 2 connections held to one destination: Limit open; meanwhile another destination still opens.
            var limit = await Bash(lab, "private-3", $$"""
                for i in $(seq 1 {{Limit + 2}}); do
                  curl -s -o /dev/null -w 'connect %{time_connect}\n' --connect-timeout 3 -m 6 --limit-rate 20k http://198.51.100.20/10m &
                done
                sleep 2
                curl -s -o /dev/null -w 'second %{http_code}\n' -m 2 http://198.51.100.10/
                wait
                """);
            var lines = limit.Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            Assert.True(Limit == lines.Count(l => l.StartsWith("connect ", StringComparison.Ordinal) && l != "connect 0.000000"), limit.Output);
            Assert.True(2 == lines.Count(l => l == "connect 0.000000"), limit.Output);
            Assert.Contains("second 200", lines);

            // The NAT instance's path has none of this: the same idle connection is kept.
            Assert.Equal(0, (await lab.RunAsync("lab", "route", "add", "private", "0.0.0.0/0", "--target", "nat")).ExitCode);
            Assert.Equal(0, (await lab.RunAsync("lab", "source-dest-check", "nat", "off")).ExitCode);
            Assert.Contains("HTTP/1.1 200 OK", (await Bash(lab, "private-1", IdleScript(IdleSeconds + 2))).Output, StringComparison.Ordinal);

            // lab verify checks the same behaviours with its own lowered values, and puts the lab's back.
            var verify = await lab.RunAsync("lab", "verify");
            Assert.True(verify.ExitCode == 0, verify.Output);
            foreach (var check in new[] { "G1.", "G2.", "G3.", "G4.", "G5.", "G6." })
            {
                Assert.Contains(verify.Output.Split('\n'), l => l.StartsWith(check, StringComparison.Ordinal) && l.Contains(" pass ", StringComparison.Ordinal));
            }

            Assert.Contains($"idle timeout {IdleSeconds} s, {Limit} connections per destination", verify.Output, StringComparison.Ordinal);
        }
        finally
        {
            var down = await lab.RunAsync("lab", "down");
            Assert.True(down.ExitCode == 0, down.Output);
        }

        Assert.Empty(lab.Leftovers());
    }

    [Fact]
    public async Task LabUp_BadNatGatewayVariable_RefusesBeforeBuildingAnything()
    {
        var lab = new LabRunner();

        var up = await lab.RunAsync(["lab", "up"], new Dictionary<string, string> { [NatGatewayEmulation.IdleTimeoutVariable] = "5m" });

        Assert.Equal(2, up.ExitCode);
        Assert.Contains("EGRESS_LAB_NATGW_IDLE_TIMEOUT='5m' is not a whole number from 1 to 432000", up.Output, StringComparison.Ordinal);
        Assert.Empty(lab.Namespaces());
    }

    [Theory]
    [InlineData("0", "1000", "EGRESS_LAB_NATGW_IDLE_TIMEOUT='0'")]
    [InlineData("350", "70000", "EGRESS_LAB_NATGW_CONNECTIONS_PER_DESTINATION='70000' is not a whole number from 1 to 64512")]
    [InlineData("ten", "-1", "EGRESS_LAB_NATGW_IDLE_TIMEOUT='ten'")]
    public void FromVariables_BadValue_IsReportedAndAwsValueKept(string idle, string limit, string expected)
    {
        var problems = new List<string>();
        var variables = new Dictionary<string, string> { [NatGatewayEmulation.IdleTimeoutVariable] = idle, [NatGatewayEmulation.ConnectionsPerDestinationVariable] = limit };

        var emulation = NatGatewayEmulation.FromVariables(n => variables.GetValueOrDefault(n), problems);

        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal) && p.Contains("unset it for AWS's value", StringComparison.Ordinal));
        Assert.True(emulation.IdleTimeout == NatGatewayEmulation.Aws.IdleTimeout || emulation.ConnectionsPerDestination == NatGatewayEmulation.Aws.ConnectionsPerDestination);
    }

    [Fact]
    public void FromVariables_Unset_IsWhatAwsDocuments()
    {
        var problems = new List<string>();

        Assert.Equal(new NatGatewayEmulation(TimeSpan.FromSeconds(350), 55_000), NatGatewayEmulation.FromVariables(_ => null, problems));
        Assert.Empty(problems);
    }

    [Fact]
    public void Ruleset_ForTheGateway_TranslatesCountsResetsAndDropsAsDocumented()
    {
        var model = TopologyLoader.Load(NatGatewayTopologyTests.NatGatewayTopologyPath).Model!;

        var ruleset = LabNatGateways.Ruleset(model, model.NatGateways[0], new NatGatewayEmulation(TimeSpan.FromSeconds(7), 42));
        var sysctls = LabNatGateways.Sysctls(new NatGatewayEmulation(TimeSpan.FromSeconds(7), 42));

        Assert.Contains("snat to 10.10.1.50:1024-65535", ruleset, StringComparison.Ordinal);
        Assert.Contains("add @destinations { ip daddr . meta l4proto . th dport ct count over 42 }", ruleset, StringComparison.Ordinal);
        Assert.Contains("ct state invalid counter name \"idle_resets\" reject with tcp reset", ruleset, StringComparison.Ordinal);
        Assert.Contains("tcp dport 22 counter name \"ssh_dropped\" drop", ruleset, StringComparison.Ordinal);
        Assert.Contains("type filter hook input priority filter; policy drop;", ruleset, StringComparison.Ordinal);
        Assert.Contains("net.netfilter.nf_conntrack_tcp_timeout_established=7", sysctls);
        Assert.Contains("net.netfilter.nf_conntrack_tcp_loose=0", sysctls);
    }

    [Fact]
    public void InternetGateway_WithANatGateway_MapsItsElasticIpLikeAnInstances()
    {
        var model = TopologyLoader.Load(NatGatewayTopologyTests.NatGatewayTopologyPath).Model!;

        var ruleset = LabRulesets.InternetGateway(model);

        Assert.Contains("ip daddr 203.0.113.20 dnat to 10.10.1.50", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip saddr 10.10.1.50 snat to 203.0.113.20", ruleset, StringComparison.Ordinal);
    }

    /// <summary>HEAD on a keep-alive connection, idle for <paramref name="seconds"/>, HEAD again; a reset shows as cat's error.</summary>
    private static string IdleScript(int seconds) => $$"""
        trap '' PIPE
        exec 3<>/dev/tcp/198.51.100.10/80 || exit 2
        request=$'HEAD / HTTP/1.1\r\nHost: checkip.lab.test\r\n\r'
        cat <<<"$request" >&3
        while read -t 3 -r line <&3; do [ "$line" = $'\r' ] && break; done
        sleep {{seconds}}
        cat <<<"$request" >&3
        timeout 3 cat <&3
        """;

    private static Task<(int ExitCode, string Output)> Bash(LabRunner lab, string host, string script) =>
        lab.RunAsync("lab", "exec", host, "--", "bash", "-c", script);
}
