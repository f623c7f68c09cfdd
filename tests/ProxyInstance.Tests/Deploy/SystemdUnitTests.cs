using System.Globalization;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Hosting;

namespace EgressLab.ProxyInstance.Tests.Deploy;

/// <summary>deploy/systemd/egress-proxy.service: how it runs the proxy, and the privileges it leaves it.</summary>
// Linux only: bash, tar, Unix file modes and systemd are what the package is for.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SystemdUnitTests
{
    private const string Binary = "/opt/egress-proxy/ProxyInstance";
    private const string ConfigFile = "/etc/egress-proxy/proxy.json";

    private static readonly SystemdUnit Unit = SystemdUnit.Parse(File.ReadAllText(Repository.Unit));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Unit", "After", "network-online.target")]
    [InlineData("Unit", "Wants", "network-online.target")]
    [InlineData("Service", "Type", "exec")]
    [InlineData("Service", "Restart", "on-failure")]
    [InlineData("Service", "KillSignal", "SIGTERM")]
    [InlineData("Service", "DynamicUser", "yes")]
    [InlineData("Service", "LogsDirectory", "egress-proxy")]
    [InlineData("Service", "NoNewPrivileges", "yes")]
    [InlineData("Service", "CapabilityBoundingSet", "")]
    [InlineData("Service", "AmbientCapabilities", "")]
    [InlineData("Service", "ProtectSystem", "strict")]
    [InlineData("Service", "ProtectHome", "yes")]
    [InlineData("Service", "PrivateTmp", "yes")]
    [InlineData("Service", "PrivateDevices", "yes")]
    [InlineData("Service", "ProtectKernelTunables", "yes")]
    [InlineData("Service", "ProtectKernelModules", "yes")]
    [InlineData("Service", "ProtectKernelLogs", "yes")]
    [InlineData("Service", "ProtectControlGroups", "yes")]
    [InlineData("Service", "RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX AF_NETLINK")]
    [InlineData("Install", "WantedBy", "multi-user.target")]
    public void Directive_IsSetOnceToItsValue(string section, string key, string expected)
    {
        // Once: a second CapabilityBoundingSet= line, say, would add to the first.
        Assert.Equal(expected, Unit.Single(section, key));
    }

    [Fact]
    public void ExecStart_RunsTheInstalledBinaryOnTheInstalledConfig()
    {
        var exec = Unit.Single("Service", "ExecStart");
        var command = CommandLine.Parse(Arguments(exec));

        // No prefix such as '+' (full privileges) or '-' (failure ignored): the plain path.
        Assert.Equal($"{Binary} --config {ConfigFile}", exec);
        Assert.Equal(CommandKind.Run, command.Kind);
        Assert.Equal(ConfigFile, command.ConfigPath);
    }

    [Fact]
    public void ExecStartPre_ChecksTheSameConfigSoABadFileNeverStarts()
    {
        var exec = Unit.Single("Service", "ExecStartPre");
        var command = CommandLine.Parse(Arguments(exec));

        Assert.Equal($"{Binary} --check-config {ConfigFile}", exec);
        Assert.Equal(CommandKind.CheckConfig, command.Kind);
        Assert.Equal(ConfigFile, command.ConfigPath);
    }

    [Fact]
    public void ExecReload_ChecksTheConfigThenSendsSighupToTheMainProcess()
    {
        Assert.Equal([$"{Binary} --check-config {ConfigFile}", "/bin/kill -HUP $MAINPID"], Unit.Values("Service", "ExecReload"));
    }

    [Fact]
    public void Restart_SoonAfterAFailureButAStartLimitEndsACrashLoop()
    {
        var restartSec = SystemdUnit.ParseTimeSpan(Unit.Single("Service", "RestartSec"));
        var burst = int.Parse(Unit.Single("Unit", "StartLimitBurst"), CultureInfo.InvariantCulture);
        var interval = SystemdUnit.ParseTimeSpan(Unit.Single("Unit", "StartLimitIntervalSec"));

        Assert.InRange(restartSec, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        Assert.InRange(burst, 2, 10);
        // Restarts come faster than the limit allows, so a process that keeps failing hits it.
        Assert.True(restartSec * burst < interval, $"{burst} restarts {restartSec} apart never exceed the start limit of {burst} in {interval}.");
    }

    [Fact]
    public void TimeoutStopSec_ALittleLongerThanTheProxysDefaultDrain()
    {
        // The default as the proxy computes it: the embedded defaults.json, then the code's fallback.
        var loaded = ConfigLoader.Load(new ConfigSource(null, UseEnvironment: false));
        var errors = new List<ConfigError>(loaded.Errors);
        RuntimeSettings.TryCreate(loaded.Options!, "defaults", [], errors, out var defaults);
        Assert.Empty(errors);
        var drain = defaults!.DrainTimeout;

        var stop = SystemdUnit.ParseTimeSpan(Unit.Single("Service", "TimeoutStopSec"));

        Assert.InRange(stop, drain + TimeSpan.FromSeconds(1), drain + TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void LimitNOFILE_RoomForTwoSocketsPerTunnel()
    {
        // "soft:hard" or one number for both.
        var limits = Unit.Single("Service", "LimitNOFILE").Split(':').Select(v => long.Parse(v, CultureInfo.InvariantCulture));

        Assert.All(limits, limit => Assert.True(limit >= 65536, $"LimitNOFILE {limit} is below 65536"));
    }

    [Theory]
    [InlineData("proxy.sample.json")]
    [InlineData("proxy.auth.sample.json")]
    public void LogsDirectory_IsWhereTheSampleWritesItsAccessLog(string sample)
    {
        var loaded = ConfigLoader.Load(new ConfigSource(Repository.Config(sample), UseEnvironment: false));
        Assert.Empty(loaded.Errors);

        Assert.Equal($"/var/log/{Unit.Single("Service", "LogsDirectory")}", Path.GetDirectoryName(loaded.Options!.AccessLog.Path));
    }

    [Fact]
    public void Capabilities_NoneGrantedAndACommentSaysHowToBindBelow1024()
    {
        var lines = File.ReadAllLines(Repository.Unit);

        Assert.Contains(lines, l => l.StartsWith('#') && l.Contains("CAP_NET_BIND_SERVICE", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => !l.StartsWith('#') && l.Contains("CAP_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SystemdAnalyzeVerify_WhereInstalled_ReportsNothingAboutTheUnit()
    {
        // CI installs no systemd; there the assertions above stand alone.
        if (Requirements.FindOnPath("systemd-analyze") is not { } analyze)
        {
            return;
        }

        // verify requires every Exec path to exist, so a copy of the unit points at a stand-in for the binary.
        var directory = Directory.CreateTempSubdirectory("egress-unit-verify-");
        try
        {
            var standIn = Path.Combine(directory.FullName, "ProxyInstance");
            await File.WriteAllTextAsync(standIn, "#!/bin/sh\nexit 0\n", Token);
            File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var unit = Path.Combine(directory.FullName, "egress-proxy.service");
            await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(Repository.Unit, Token)).Replace(Binary, standIn, StringComparison.Ordinal), Token);

            var result = await ExternalCommand.RunAsync(analyze, ["verify", unit], TimeSpan.FromSeconds(60), Token);

            Assert.Equal(0, result.ExitCode);
            // Unknown keys and unparsable values are only warnings, exit code 0; messages about other units are not ours.
            Assert.DoesNotContain("egress-proxy.service", result.Stdout + result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static string[] Arguments(string exec) => exec.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
}
