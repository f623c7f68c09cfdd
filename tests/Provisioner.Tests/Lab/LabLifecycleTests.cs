using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner.Tests.Lab;

/// <summary>
/// The lab for real: namespaces, veth pairs, nftables, iptables, dnsmasq, nginx and the proxy instance.
/// Needs root; CI runs these as root, and EGRESS_LAB_REQUIRE_ALL=1 there turns a skip into a failure.
/// </summary>
[Collection(LabTestGroup.Name)]
public sealed class LabLifecycleTests
{
    [Fact]
    public async Task Up_Status_Verify_Down_BuildsTheWalkthroughAndLeavesNothing()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();
        var before = LabRunner.RootNamespaceSnapshot();
        try
        {
            var up = await lab.RunAsync("lab", "up");
            Assert.True(up.ExitCode == 0, up.Output);
            Assert.Equal(8, lab.Namespaces().Count);

            var again = await lab.RunAsync("lab", "up");
            Assert.True(again.ExitCode == 0, again.Output);
            Assert.Contains("nothing needed to change", again.Output, StringComparison.Ordinal);

            var status = await lab.RunAsync("lab", "status");
            Assert.Equal(0, status.ExitCode);
            foreach (var expected in new[] { "nat", "203.0.113.10", "private-1", "10.10.2.101", "route table private", "route table public", "blackhole default" })
            {
                Assert.Contains(expected, status.Output, StringComparison.Ordinal);
            }

            // The Layer-3 path works from the start; the private subnet has no way out yet.
            var direct = await lab.RunAsync("lab", "exec", "public-1", "--", "curl", "-s", "-m", "3", "http://checkip.lab.test/");
            Assert.StartsWith("203.0.113.11:", direct.Output, StringComparison.Ordinal);
            var blocked = await lab.RunAsync("lab", "exec", "private-1", "--", "curl", "-s", "-m", "2", "http://checkip.lab.test/");
            Assert.Equal(28, blocked.ExitCode);

            var verify = await lab.RunAsync("lab", "verify");
            Assert.True(verify.ExitCode == 0, verify.Output);
            Assert.Contains("all 10 checks passed.", verify.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("FAIL", verify.Output, StringComparison.Ordinal);

            // Verify leaves the lab as it found it: still no route out of the private subnet.
            var after = await lab.RunAsync("lab", "exec", "private-1", "--", "curl", "-s", "-m", "2", "http://checkip.lab.test/");
            Assert.Equal(28, after.ExitCode);
            Assert.DoesNotContain("0.0.0.0/0          nat", (await lab.RunAsync("lab", "status")).Output, StringComparison.Ordinal);

            // The console steps, one by one.
            Assert.Equal(0, (await lab.RunAsync("lab", "route", "add", "private", "0.0.0.0/0", "--target", "nat")).ExitCode);
            Assert.Equal(28, (await lab.RunAsync("lab", "exec", "private-1", "--", "curl", "-s", "-m", "2", "http://checkip.lab.test/")).ExitCode);
            Assert.Equal(0, (await lab.RunAsync("lab", "source-dest-check", "nat", "off")).ExitCode);
            var natted = await lab.RunAsync("lab", "exec", "private-2", "--", "curl", "-s", "-m", "3", "http://checkip.lab.test/");
            Assert.StartsWith("203.0.113.10:", natted.Output, StringComparison.Ordinal);
            Assert.Equal(0, (await lab.RunAsync("lab", "egress", "proxy-only")).ExitCode);
            Assert.Equal(28, (await lab.RunAsync("lab", "exec", "private-2", "--", "curl", "-s", "-m", "2", "http://checkip.lab.test/")).ExitCode);
            var proxied = await lab.RunAsync("lab", "exec", "private-2", "--", "curl", "-s", "-m", "3", "-x", "http://10.10.2.200:3128", "https://www.lab.test/1k", "-o", "/dev/null", "-w", "%{http_code} %{size_download}");
            Assert.Equal("200 1024", proxied.Output.Trim());
            // A download from another host (namespace) is spliced to the client under the default SpliceTunnels (Auto).
            var bulk = await lab.RunAsync("lab", "exec", "private-2", "--", "curl", "-s", "-m", "10", "-x", "http://10.10.2.200:3128", "https://www.lab.test/10m", "-o", "/dev/null", "-w", "%{http_code} %{size_download}");
            Assert.Equal("200 10485760", bulk.Output.Trim());
            var metrics = await lab.RunAsync("lab", "exec", "proxy", "--", "curl", "-s", "-m", "3", "http://127.0.0.1:9128/metrics");
            var spliced = metrics.Output.Split('\n').Single(line => line.StartsWith("proxy_bytes_spliced_total", StringComparison.Ordinal));
            Assert.True(double.Parse(spliced[(spliced.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 1024 * 1024, spliced);
            // The lab's proxy runs the configuration recommended for a proxy that shares its processors: one event loop.
            var proxyConfig = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(lab.StateDirectory, "proxy", "proxy.json"),
                TestContext.Current.CancellationToken))!;
            Assert.Equal(1, (int)proxyConfig["Proxy"]!["SocketThreads"]!);
            // An upload through the proxy: the origin answers once it has read the whole body (curl sends all of it only
            // after a 100 Continue, which nginx's early answer never gave).
            var uploaded = await lab.RunAsync("lab", "exec", "private-2", "--", "sh", "-c",
                "head -c 3145728 /dev/zero | curl -s -m 10 -x http://10.10.2.200:3128 --data-binary @- -w ' %{size_upload}' https://www.lab.test/upload");
            Assert.Equal("ok\n 3145728", uploaded.Output.Trim());
            Assert.Equal(0, (await lab.RunAsync("lab", "egress", "nat")).ExitCode);
            Assert.StartsWith("203.0.113.10:", (await lab.RunAsync("lab", "exec", "private-2", "--", "curl", "-s", "-m", "3", "http://checkip.lab.test/")).Output, StringComparison.Ordinal);

            // Route edits are held to the topology file's rules.
            foreach (var (arguments, expected) in new (string[], string)[]
            {
                (["route", "add", "private", "0.0.0.0/0", "--target", "nat"], "already has a route"),
                (["route", "add", "private", "192.0.2.0/24", "--target", "nowhere"], "unknown target 'nowhere'"),
                (["route", "add", "private", "10.10.3.0/24", "--target", "nat"], "is inside the VPC range"),
                (["route", "add", "private", "192.0.2.1/24", "--target", "nat"], "host bits set"),
                (["route", "add", "elsewhere", "0.0.0.0/0", "--target", "nat"], "route table 'elsewhere' does not exist"),
                (["route", "delete", "public", "192.0.2.0/24"], "has no route for 192.0.2.0/24"),
            })
            {
                var refused = await lab.RunAsync(["lab", .. arguments], null);
                Assert.True(refused.ExitCode == 2, refused.Output);
                Assert.Contains(expected, refused.Output, StringComparison.Ordinal);
            }

            Assert.Equal(0, (await lab.RunAsync("lab", "route", "delete", "private", "0.0.0.0/0")).ExitCode);
            Assert.Equal(28, (await lab.RunAsync("lab", "exec", "private-2", "--", "curl", "-s", "-m", "2", "http://checkip.lab.test/")).ExitCode);
        }
        finally
        {
            var down = await lab.RunAsync("lab", "down");
            Assert.True(down.ExitCode == 0, down.Output);
        }

        Assert.Empty(lab.Leftovers());
        Assert.Equal(before, LabRunner.RootNamespaceSnapshot());
    }

    [Theory]
    [InlineData("namespaces")]
    [InlineData("links")]
    [InlineData("firewalls")]
    [InlineData("services")]
    public async Task Up_FailingPartWay_IsFinishedByUpAndRemovedByDown(string step)
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();
        try
        {
            var failed = await lab.UpInProcessAsync(new LabBuilderOptions { StopAfterStep = name => name == step });
            Assert.Equal(LabOutcome.Failed, failed.Outcome);
            Assert.Contains(failed.Errors, e => e.Contains($"stopped after step '{step}'", StringComparison.Ordinal));
            Assert.Contains("the lab is partly built", failed.Advice, StringComparison.Ordinal);
            Assert.NotEmpty(lab.Namespaces());

            if (step == "links")
            {
                // A second up finishes the job.
                var finished = await lab.RunAsync("lab", "up");
                Assert.True(finished.ExitCode == 0, finished.Output);
                var direct = await lab.RunAsync("lab", "exec", "public-1", "--", "curl", "-s", "-m", "3", "http://checkip.lab.test/");
                Assert.StartsWith("203.0.113.11:", direct.Output, StringComparison.Ordinal);
            }
        }
        finally
        {
            var down = await lab.RunAsync("lab", "down");
            Assert.True(down.ExitCode == 0, down.Output);
        }

        Assert.Empty(lab.Leftovers());
    }

    [Fact]
    public async Task Up_KilledWhileBuilding_DownRemovesEverything()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();
        try
        {
            System.Diagnostics.Process? running = null;
            var up = lab.RunAsync(["lab", "up"], null, p => running = p);
            // Kill it as soon as the build has visibly started: some namespaces exist, the rest do not.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (lab.Namespaces().Count < 3 && DateTime.UtcNow < deadline && !up.IsCompleted)
            {
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }

            Assert.False(up.IsCompleted, "up finished before it could be killed mid-build");
            running!.Kill(entireProcessTree: true);
            Assert.NotEqual(0, (await up).ExitCode);
            Assert.NotEmpty(lab.Namespaces());
        }
        finally
        {
            var down = await lab.RunAsync("lab", "down");
            Assert.True(down.ExitCode == 0, down.Output);
        }

        Assert.Empty(lab.Leftovers());
    }

    [Fact]
    public async Task Down_WithNoLab_SaysSoAndSucceeds()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();

        var down = await lab.RunAsync("lab", "down");

        Assert.Equal(0, down.ExitCode);
        Assert.Contains("no lab was up", down.Output, StringComparison.Ordinal);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabTestGroup
{
    public const string Name = "lab";
}
