using EgressLab.ProxyInstance.Allowlist;
using EgressLab.ProxyInstance.Hosting;

namespace EgressLab.ProxyInstance.Tests.Allowlist;

public sealed class AllowlistArgumentsTests
{
    [Fact]
    public void TryParse_Suggest_ReadsEveryOption()
    {
        Assert.True(AllowlistArguments.TryParse(
            ["suggest", "--from", "a.log", "--from", "-", "--since", "24h", "--siblings", "5", "--client-prefix", "16", "--client-prefix6", "48", "--include-denied"],
            out var parsed, out var error), error);

        Assert.Equal(AllowlistAction.Suggest, parsed.Action);
        Assert.Equal(["a.log", "-"], parsed.From);
        Assert.Equal(TimeSpan.FromHours(24), parsed.Since!.Value.Ago);
        Assert.Equal(5, parsed.Siblings);
        Assert.Equal(16, parsed.ClientPrefix);
        Assert.Equal(48, parsed.ClientPrefix6);
        Assert.True(parsed.IncludeDenied);
    }

    [Fact]
    public void TryParse_Diff_ReadsConfigAndShowAllowed()
    {
        Assert.True(AllowlistArguments.TryParse(["diff", "--config", "c.json", "--from", "a.log", "--show-allowed"], out var parsed, out var error), error);

        Assert.Equal(AllowlistAction.Diff, parsed.Action);
        Assert.Equal("c.json", parsed.ConfigPath);
        Assert.True(parsed.ShowAllowed);
        Assert.Equal(AllowlistArguments.DefaultSiblings, parsed.Siblings);
    }

    [Theory]
    [InlineData("", "needs a subcommand")]
    [InlineData("learn --from a.log", "unknown allowlist subcommand 'learn'")]
    [InlineData("suggest", "at least one access log with --from")]
    [InlineData("suggest --from", "--from needs a value")]
    [InlineData("suggest --from a.log --since", "--since needs a value")]
    [InlineData("suggest --from a.log --since yesterday", "--since 'yesterday' is neither")]
    [InlineData("suggest --from a.log --since 5y", "--since '5y' is neither")]
    [InlineData("suggest --from a.log --siblings 1", "--siblings '1' must be")]
    [InlineData("suggest --from a.log --siblings many", "--siblings 'many' must be")]
    [InlineData("suggest --from a.log --client-prefix 33", "--client-prefix '33' must be")]
    [InlineData("suggest --from a.log --client-prefix6 129", "--client-prefix6 '129' must be")]
    [InlineData("suggest --from a.log --since 1h --since 2h", "--since is given twice")]
    [InlineData("suggest --from - --from -", "only once")]
    [InlineData("suggest --from a.log --config c.json", "--config does not apply to allowlist suggest")]
    [InlineData("diff --from a.log --siblings 3", "--siblings does not apply to allowlist diff")]
    [InlineData("diff --from a.log", "needs the candidate configuration: --config FILE")]
    [InlineData("suggest --from a.log stray", "unknown argument 'stray'")]
    public void TryParse_BadArguments_SaysWhatIsWrong(string line, string expected)
    {
        string[] args = line.Length == 0 ? [] : line.Split(' ');

        Assert.False(AllowlistArguments.TryParse(args, out var parsed, out var error));

        Assert.Null(parsed);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("90s", 0, 0, 90)]
    [InlineData("30m", 0, 30, 0)]
    [InlineData("24h", 24, 0, 0)]
    [InlineData("7d", 168, 0, 0)]
    [InlineData("2w", 336, 0, 0)]
    public void TryParseSince_Duration_IsTimeBeforeNow(string text, int hours, int minutes, int seconds)
    {
        Assert.True(AllowlistArguments.TryParseSince(text, out var since));

        Assert.Equal(new TimeSpan(hours, minutes, seconds), since.Ago);
        Assert.Null(since.At);
    }

    [Theory]
    [InlineData("2026-12-01", "2026-12-01T00:00:00+00:00")]
    [InlineData("2026-12-01T08:30:00Z", "2026-12-01T08:30:00+00:00")]
    [InlineData("2026-12-01T08:30:00+02:00", "2026-12-01T06:30:00+00:00")]
    public void TryParseSince_IsoDate_IsThatMomentUtcUnlessItSays(string text, string expected)
    {
        Assert.True(AllowlistArguments.TryParseSince(text, out var since));

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), since.At);
    }

    [Fact]
    public void CommandLine_AllowlistError_CarriesTheAllowlistUsage()
    {
        var command = CommandLine.Parse(["allowlist", "suggest"]);

        Assert.Equal(CommandKind.Error, command.Kind);
        Assert.Equal(AllowlistArguments.Usage, command.HelpText);
    }

    [Fact]
    public void CommandLine_Allowlist_IsTheAllowlistCommand()
    {
        var command = CommandLine.Parse(["allowlist", "diff", "--config", "c.json", "--from", "a.log"]);

        Assert.Equal(CommandKind.Allowlist, command.Kind);
        Assert.Equal("c.json", command.Allowlist!.ConfigPath);
    }
}
