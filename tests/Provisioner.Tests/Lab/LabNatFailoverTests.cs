using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner.Tests.Lab;

/// <summary>
/// `lab fail nat` and `lab heal nat`, and the fck-nat style failover (failover: asg-eni), for real in the lab's
/// namespaces: egress stops, comes back through the same route and the same Elastic IP, and what the old instance
/// tracked is lost. Needs root, like every lab test.
/// </summary>
[Collection(LabTestGroup.Name)]
public sealed class LabNatFailoverTests
{
    private const string NatAddress = "203.0.113.10:";

    [Fact]
    public async Task FailNat_StopForwarding_EgressStopsUntilHealed()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();
        try
        {
            await WalkthroughEndStateAsync(lab, topology: null);
            Assert.StartsWith(NatAddress, await CheckIpAsync(lab), StringComparison.Ordinal);

            var fail = await lab.RunAsync("lab", "fail", "nat", "--mode", "stop-forwarding");
            Assert.True(fail.ExitCode == 0, fail.Output);
            Assert.Contains("down until `lab heal nat`", fail.Output, StringComparison.Ordinal);
            Assert.Equal("", await CheckIpAsync(lab));
            Assert.Equal("0", (await lab.RunAsync("lab", "exec", "nat", "--", "sysctl", "-n", "net.ipv4.ip_forward")).Output.Trim());

            // Bad input changes nothing and says what to do.
            var again = await lab.RunAsync("lab", "fail", "nat", "--mode", "kill");
            Assert.True(again.ExitCode == 2, again.Output);
            Assert.Contains("has been failed (stop-forwarding)", again.Output, StringComparison.Ordinal);
            Assert.Contains("run `lab heal nat` first", again.Output, StringComparison.Ordinal);
            var notNat = await lab.RunAsync("lab", "fail", "public-1");
            Assert.True(notNat.ExitCode == 2, notNat.Output);
            Assert.Contains("'public-1' is not a NAT instance; the NAT instances are: nat", notNat.Output, StringComparison.Ordinal);
            var mode = await lab.RunAsync("lab", "fail", "nat", "--mode", "reboot");
            Assert.True(mode.ExitCode == 2, mode.Output);
            Assert.Contains("'reboot' not recognized", mode.Output, StringComparison.Ordinal);

            var heal = await lab.RunAsync("lab", "heal", "nat");
            Assert.True(heal.ExitCode == 0, heal.Output);
            Assert.StartsWith(NatAddress, await CheckIpAsync(lab), StringComparison.Ordinal);
            var twice = await lab.RunAsync("lab", "heal", "nat");
            Assert.True(twice.ExitCode == 2, twice.Output);
            Assert.Contains("is not failed: nothing to heal", twice.Output, StringComparison.Ordinal);
        }
        finally
        {
            await DownAsync(lab);
        }
    }

    [Fact]
    public async Task FailNat_KillWithoutFailover_StaysDownUntilHealedOnTheSameInterface()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();
        try
        {
            await WalkthroughEndStateAsync(lab, topology: null);
            var mac = await NatMacAsync(lab);

            var fail = await lab.RunAsync("lab", "fail", "nat", "--mode", "kill");
            Assert.True(fail.ExitCode == 0, fail.Output);
            Assert.DoesNotContain($"{lab.Prefix}-nat", lab.Namespaces());
            // Longer than the failover delays: without failover nothing replaces it.
            await Task.Delay(NatFailoverTiming.Default.Total + TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            Assert.Equal("", await CheckIpAsync(lab));

            var heal = await lab.RunAsync("lab", "heal", "nat");
            Assert.True(heal.ExitCode == 0, heal.Output);
            Assert.StartsWith(NatAddress, await CheckIpAsync(lab), StringComparison.Ordinal);
            Assert.Equal(mac, await NatMacAsync(lab));
            Assert.DoesNotContain($"{lab.Prefix}-nat.eni", lab.Namespaces());
        }
        finally
        {
            await DownAsync(lab);
        }
    }

    [Fact]
    public async Task FailNat_KillWithAsgEniFailover_ReplacementTakesOverTheInterface_AndEstablishedConnectionsAreLost()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();
        var topology = Path.Combine(Path.GetTempPath(), $"{lab.Prefix}-failover.yaml");
        try
        {
            var text = await File.ReadAllTextAsync(Provisioner.Topology.DefaultTopology.Path, TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(topology, text.Replace("    role: nat\n", "    role: nat\n    failover: asg-eni\n", StringComparison.Ordinal), TestContext.Current.CancellationToken);
            await WalkthroughEndStateAsync(lab, topology);
            var routeBefore = RouteTable(lab);
            var mac = await NatMacAsync(lab);

            // A transfer the server paces, running when the NAT dies: the far side speaks next, into a new instance
            // that never saw the connection.
            var established = lab.RunAsync("lab", "exec", "private-1", "--", "curl", "-s", "-o", "/dev/null", "--speed-limit", "1", "--speed-time", "8", "-m", "60",
                "-w", "%{size_download}", "http://www.lab.test/drip/10m");
            await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);

            var fail = lab.RunAsync("lab", "fail", "nat", "--mode", "kill", "--detection-delay", "2s", "--boot-delay", "2s");
            await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);
            Assert.Equal("", await CheckIpAsync(lab));
            var failed = await fail;
            Assert.True(failed.ExitCode == 0, failed.Output);
            Assert.Contains("a replacement holds the interface 10.10.1.100 again", failed.Output, StringComparison.Ordinal);

            // New connections leave again, by the same route, the same interface and the same Elastic IP.
            Assert.StartsWith(NatAddress, await CheckIpAsync(lab), StringComparison.Ordinal);
            Assert.Equal(routeBefore, RouteTable(lab));
            Assert.Equal(mac, await NatMacAsync(lab));
            var status = await lab.RunAsync("lab", "heal", "nat");
            Assert.True(status.ExitCode == 2, status.Output);

            // The transfer stalled for good: curl gives up on it (28: too slow), though the path works again.
            var transfer = await established;
            Assert.True(transfer.ExitCode == 28, $"exit {transfer.ExitCode}: {transfer.Output}");
            Assert.True(long.Parse(transfer.Output.Trim(), System.Globalization.CultureInfo.InvariantCulture) < 10 * 1024 * 1024, transfer.Output);
        }
        finally
        {
            File.Delete(topology);
            await DownAsync(lab);
        }
    }

    private static async Task WalkthroughEndStateAsync(LabRunner lab, string? topology)
    {
        string[][] setup = [topology is null ? ["up"] : ["up", "--topology", topology], ["route", "add", "private", "0.0.0.0/0", "--target", "nat"], ["source-dest-check", "nat", "off"]];
        foreach (var step in setup)
        {
            var done = await lab.RunAsync(["lab", .. step], null);
            Assert.True(done.ExitCode == 0, done.Output);
        }
    }

    /// <summary>What checkip sees of a new connection from private-1, or "" when it does not get through in 2 s.</summary>
    private static async Task<string> CheckIpAsync(LabRunner lab)
    {
        var result = await lab.RunAsync("lab", "exec", "private-1", "--", "curl", "-s", "-m", "2", "http://checkip.lab.test/");
        return result.ExitCode == 0 ? result.Output.Trim() : "";
    }

    private static async Task<string> NatMacAsync(LabRunner lab) =>
        (await lab.RunAsync("lab", "exec", "nat", "--", "cat", "/sys/class/net/eth0/address")).Output.Trim();

    /// <summary>The private route table on the router (table 101: the second table of the default topology).</summary>
    private static string RouteTable(LabRunner lab) => LabRunner.Host("ip", "-n", $"{lab.Prefix}-router", "route", "show", "table", "101");

    private static async Task DownAsync(LabRunner lab)
    {
        var down = await lab.RunAsync("lab", "down");
        Assert.True(down.ExitCode == 0, down.Output);
        Assert.Empty(lab.Leftovers());
    }
}
