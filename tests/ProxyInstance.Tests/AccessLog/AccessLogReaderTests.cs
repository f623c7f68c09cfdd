using System.Net;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Errors;

namespace EgressLab.ProxyInstance.Tests.AccessLog;

public sealed class AccessLogReaderTests
{
    [Theory]
    // Lines as the proxy writes them (README, and the tunnel, denial and authentication tests).
    [InlineData("1795257514.728   5847 10.10.2.101 TCP_TUNNEL/200 48213 CONNECT sts.us-east-1.amazonaws.com:443 - HIER_DIRECT/198.51.100.20 - aws-apis OK",
        "10.10.2.101", "CONNECT", "sts.us-east-1.amazonaws.com:443", nameof(LoggedDecision.Allowed), "aws-apis")]
    [InlineData("1795257471.661     18 127.0.0.1 TCP_DENIED/403 281 CONNECT denied.example.net:443 - HIER_NONE/- - - ERR_ACCESS_DENIED",
        "127.0.0.1", "CONNECT", "denied.example.net:443", nameof(LoggedDecision.Denied), null)]
    [InlineData("1795257471.714      9 127.0.0.1 TCP_DENIED/403 119 GET http://denied.example.net/ - HIER_NONE/- text/plain - ERR_ACCESS_DENIED",
        "127.0.0.1", "GET", "denied.example.net:80", nameof(LoggedDecision.Denied), null)]
    [InlineData("1795257471.714      9 10.0.0.1 TCP_MISS/200 5 POST http://WWW.Example.COM.:8080/a?b=c alice HIER_DIRECT/127.0.0.1 text/plain allow-all OK",
        "10.0.0.1", "POST", "www.example.com:8080", nameof(LoggedDecision.Allowed), "allow-all")]
    [InlineData("1795257471.714      9 ::1 TCP_TUNNEL/200 5 CONNECT [2001:db8::1]:443 - HIER_DIRECT/2001:db8::1 - r OK",
        "::1", "CONNECT", "[2001:db8::1]:443", nameof(LoggedDecision.Allowed), "r")]
    [InlineData("1795257471.714      9 ::ffff:10.1.2.3 TCP_TUNNEL/200 5 CONNECT 0x7f.1:443 - HIER_DIRECT/127.0.0.1 - r OK",
        "10.1.2.3", "CONNECT", "127.0.0.1:443", nameof(LoggedDecision.Allowed), "r")]
    // Refused before the policy ran: not judged.
    [InlineData("1795257471.714      0 10.0.0.1 TCP_DENIED/407 90 CONNECT www.example.com:443 - HIER_NONE/- - - ERR_AUTH_REQUIRED",
        "10.0.0.1", "CONNECT", "www.example.com:443", nameof(LoggedDecision.NotJudged), null)]
    [InlineData("1795257471.714      0 10.0.0.1 TCP_DENIED/429 90 GET http://www.example.com/ - HIER_NONE/- - - ERR_RATE_LIMITED",
        "10.0.0.1", "GET", "www.example.com:80", nameof(LoggedDecision.NotJudged), null)]
    // Allowed by the policy, refused after it: still allowed as far as the policy goes.
    [InlineData("1795257471.714      3 10.0.0.1 TCP_DENIED/403 90 CONNECT meta.example.com:443 - HIER_NONE/- - r ERR_DESTINATION_PRIVATE",
        "10.0.0.1", "CONNECT", "meta.example.com:443", nameof(LoggedDecision.Allowed), "r")]
    [InlineData("1795257471.714      3 10.0.0.1 TCP_DENIED/200 39 CONNECT www.example.com:443 - HIER_DIRECT/127.0.0.1 - r ERR_SNI_MISMATCH",
        "10.0.0.1", "CONNECT", "www.example.com:443", nameof(LoggedDecision.Allowed), "r")]
    // Report mode's extra field, in any spelling, after the twelve.
    [InlineData("1795257471.714      9 10.0.0.1 TCP_MISS/200 5 GET http://www.example.com/ - HIER_DIRECT/127.0.0.1 text/plain no-www OK would-deny",
        "10.0.0.1", "GET", "www.example.com:80", nameof(LoggedDecision.WouldDeny), "no-www")]
    [InlineData("1795257471.714      9 10.0.0.1 TCP_TUNNEL/200 5 CONNECT www.example.com:443 - HIER_DIRECT/127.0.0.1 - - OK WOULD_DENY:default",
        "10.0.0.1", "CONNECT", "www.example.com:443", nameof(LoggedDecision.WouldDeny), null)]
    // Another trailing field that is not a marker changes nothing.
    [InlineData("1795257471.714      9 10.0.0.1 TCP_MISS/200 5 GET http://www.example.com/ - HIER_DIRECT/127.0.0.1 text/plain r OK extra=1",
        "10.0.0.1", "GET", "www.example.com:80", nameof(LoggedDecision.Allowed), "r")]
    // Squid's own ten fields.
    [InlineData("1795257471.714      9 10.0.0.1 TCP_MISS/200 5 GET http://www.example.com/ - HIER_DIRECT/93.184.216.34 text/html",
        "10.0.0.1", "GET", "www.example.com:80", nameof(LoggedDecision.Allowed), null)]
    [InlineData("1795257471.714      9 10.0.0.1 TCP_DENIED/403 5 CONNECT www.example.com:443 - HIER_NONE/- text/html",
        "10.0.0.1", "CONNECT", "www.example.com:443", nameof(LoggedDecision.Denied), null)]
    public void TryParse_SquidLine_ReadsClientMethodTargetAndDecision(string line, string client, string method, string target, string decision, string? rule)
    {
        Assert.True(AccessLogReader.TryParse(line, out var request, out var error), error);

        Assert.Equal(IPAddress.Parse(client), request.Client);
        Assert.Equal(method, request.Method);
        Assert.Equal(target, request.Target?.ToString());
        Assert.Equal(Enum.Parse<LoggedDecision>(decision), request.Decision);
        Assert.Equal(rule, request.Rule);
    }

    [Fact]
    public void TryParse_SquidLine_ReadsTimeAndUser()
    {
        const string line = "1795257471.714      9 10.0.0.1 TCP_MISS/200 5 GET http://www.example.com/ alice HIER_DIRECT/127.0.0.1 text/plain r OK";

        Assert.True(AccessLogReader.TryParse(line, out var request, out _));

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1795257471714), request.Time);
        Assert.Equal("alice", request.User);
        Assert.True(request.WentThrough);
        Assert.False(request.Tunnel);
    }

    [Theory]
    [InlineData("""{"time":"2026-12-06T10:00:00.0000000Z","client":"10.0.0.1","user":null,"method":"CONNECT","target":"Api.Example.com:443","destination":"api.example.com:443","kind":"tunnel","result":"TCP_TUNNEL/200","status":200,"decision":"allow","rule":"r","reason":"RuleAllow","error":null}""",
        "CONNECT", "api.example.com:443", nameof(LoggedDecision.Allowed), "r")]
    [InlineData("""{"time":"2026-12-06T10:00:00Z","client":"10.0.0.1","method":"GET","target":"http://www.example.com/","destination":null,"decision":"deny","rule":null,"error":"ERR_ACCESS_DENIED"}""",
        "GET", "www.example.com:80", nameof(LoggedDecision.Denied), null)]
    // Report mode: a denial the client was not refused for, a marker value, a marker flag; unknown fields are ignored.
    [InlineData("""{"time":"2026-12-06T10:00:00Z","client":"10.0.0.1","method":"GET","target":"http://www.example.com/","destination":"www.example.com:80","decision":"deny","rule":"no-www","error":null,"mode":"Report"}""",
        "GET", "www.example.com:80", nameof(LoggedDecision.WouldDeny), "no-www")]
    [InlineData("""{"time":"2026-12-06T10:00:00Z","client":"10.0.0.1","method":"GET","target":"http://www.example.com/","decision":"would-deny","rule":"no-www","error":null}""",
        "GET", "www.example.com:80", nameof(LoggedDecision.WouldDeny), "no-www")]
    [InlineData("""{"time":"2026-12-06T10:00:00Z","client":"10.0.0.1","method":"GET","target":"http://www.example.com/","decision":"allow","would_deny":true,"future":{"a":[1]}}""",
        "GET", "www.example.com:80", nameof(LoggedDecision.WouldDeny), null)]
    [InlineData("""{"time":"2026-12-06T10:00:00Z","client":"10.0.0.1","method":"GET","target":"http://www.example.com/","destination":null,"decision":"none","error":"ERR_AUTH_REQUIRED"}""",
        "GET", "www.example.com:80", nameof(LoggedDecision.NotJudged), null)]
    public void TryParse_JsonLine_ReadsMethodDestinationAndDecision(string line, string method, string target, string decision, string? rule)
    {
        Assert.True(AccessLogReader.TryParse(line, out var request, out var error), error);

        Assert.Equal(IPAddress.Parse("10.0.0.1"), request.Client);
        Assert.Equal(method, request.Method);
        Assert.Equal(target, request.Target?.ToString());
        Assert.Equal(Enum.Parse<LoggedDecision>(decision), request.Decision);
        Assert.Equal(rule, request.Rule);
        Assert.Equal(new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero), request.Time);
    }

    [Theory]
    [InlineData(nameof(AccessLogFormat.Squid))]
    [InlineData(nameof(AccessLogFormat.Json))]
    public void TryParse_WhatTheFormatterWrites_ReadsBackTheSameRequest(string formatName)
    {
        var format = Enum.Parse<AccessLogFormat>(formatName);
        var entry = AccessLogEntry.ForTunnel(new DateTimeOffset(2026, 12, 6, 10, 0, 0, 123, TimeSpan.Zero), 0, IPAddress.Parse("10.10.2.101"), "Git.Example.com:22");
        entry.Destination = new EgressLab.ProxyInstance.Targets.EgressTarget("git.example.com", null, 22);
        entry.Status = 200;
        entry.Decision = "allow";
        entry.Rule = "git ssh";
        entry.User = "bob smith";

        var line = AccessLogFormatter.Format(entry, format);

        Assert.True(AccessLogReader.TryParse(line, out var request, out var error), error);
        Assert.Equal(entry.Time, request.Time);
        Assert.Equal(entry.Client, request.Client);
        Assert.Equal("CONNECT", request.Method);
        Assert.Equal("git.example.com:22", request.Target?.ToString());
        Assert.Equal(LoggedDecision.Allowed, request.Decision);
        Assert.Equal("bob smith", request.User);
        Assert.Equal("git ssh", request.Rule);
    }

    [Fact]
    public void TryParse_DenialTheFormatterWrites_IsDenied()
    {
        var entry = AccessLogEntry.ForTunnel(DateTimeOffset.UnixEpoch, 0, IPAddress.Loopback, "denied.example.net:443");
        entry.Status = 403;
        entry.Error = ProxyError.AccessDenied;
        entry.Decision = "deny";

        foreach (var format in new[] { AccessLogFormat.Squid, AccessLogFormat.Json })
        {
            Assert.True(AccessLogReader.TryParse(AccessLogFormatter.Format(entry, format), out var request, out var error), error);
            Assert.Equal(LoggedDecision.Denied, request.Decision);
            Assert.Equal("denied.example.net:443", request.Target?.ToString());
        }
    }

    [Theory]
    [InlineData("trial-block", "trial-block")]
    [InlineData(null, null)]
    public void TryParse_WouldDenyTheFormatterWrites_WentThroughWithTheRuleThatWouldHaveDenied(string? rule, string? expectedRule)
    {
        var entry = AccessLogEntry.ForTunnel(DateTimeOffset.UnixEpoch, 0, IPAddress.Loopback, "trial.example.net:443");
        entry.Status = 200;
        entry.Decision = DecisionLabels.WouldDeny;
        entry.Rule = rule;

        foreach (var format in new[] { AccessLogFormat.Squid, AccessLogFormat.Json })
        {
            Assert.True(AccessLogReader.TryParse(AccessLogFormatter.Format(entry, format), out var request, out var error), error);
            Assert.Equal(LoggedDecision.WouldDeny, request.Decision);
            Assert.True(request.WentThrough);
            Assert.Equal(expectedRule, request.Rule);
        }
    }

    [Theory]
    [InlineData("garbage", "at least 10")]
    [InlineData("yesterday 9 10.0.0.1 TCP_MISS/200 5 GET http://www.example.com/ - HIER_DIRECT/127.0.0.1 text/plain r OK", "Unix time")]
    [InlineData("1795257471.714 9 not-an-ip TCP_MISS/200 5 GET http://www.example.com/ - HIER_DIRECT/127.0.0.1 text/plain r OK", "client address")]
    [InlineData("1795257471.714 9 10.0.0.1 TCP_MISS 5 GET http://www.example.com/ - HIER_DIRECT/127.0.0.1 text/plain r OK", "TCP_MISS/200")]
    [InlineData("""{"time":"2026-12-06T10:00:00Z", "method": """, "not valid JSON")]
    [InlineData("""{"method":"GET","target":"http://www.example.com/"}""", "\"time\"")]
    [InlineData("""{"time":"2026-12-06T10:00:00Z","target":"http://www.example.com/"}""", "\"method\"")]
    [InlineData("""{"time":"2026-12-06T10:00:00Z","method":"GET","decision":"maybe"}""", "'maybe'")]
    public void TryParse_MalformedLine_SaysWhatIsWrong(string line, string expected)
    {
        Assert.False(AccessLogReader.TryParse(line, out var request, out var error));

        Assert.Null(request);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1795257471.714 9 10.0.0.1 TCP_MISS/400 5 GET /origin-form - HIER_NONE/- - - ERR_INVALID_REQUEST")]
    [InlineData("1795257471.714 9 10.0.0.1 NONE_NONE/400 5 CONNECT 1.2.3.999:443 - HIER_NONE/- - - ERR_INVALID_REQUEST")]
    [InlineData("1795257471.714 9 10.0.0.1 TCP_TUNNEL/200 5 CONNECT www.example.com - HIER_NONE/- - - OK")]
    public void TryParse_TargetThatIsNoDestination_ReadsTheLineWithoutTarget(string line)
    {
        Assert.True(AccessLogReader.TryParse(line, out var request, out var error), error);

        Assert.Null(request.Target);
    }
}
