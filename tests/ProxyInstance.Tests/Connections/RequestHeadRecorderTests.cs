using System.IO.Pipelines;
using System.Text;
using EgressLab.ProxyInstance.Connections;

namespace EgressLab.ProxyInstance.Tests.Connections;

public sealed class RequestHeadRecorderTests
{
    private const string Target = "http://www.example.com/a?b=c";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static IReadOnlyList<string>? Find(string recorded, string method = "GET", string target = Target, string protocol = "HTTP/1.1") =>
        RequestHeadRecorder.FindConnectionTokens(Encoding.Latin1.GetBytes(recorded), method, target, protocol);

    [Fact]
    public void Find_ListsEveryNameOfEveryConnectionField()
    {
        var names = Find($"GET {Target} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\nproxy-connection:X-B ,\tX-C\r\n\r\n");

        Assert.Equal(["keep-alive", "X-A", "X-B", "X-C"], names);
    }

    [Fact]
    public void Find_WithoutConnectionFields_ReturnsEmpty()
    {
        Assert.Equal([], Find($"GET {Target} HTTP/1.1\r\nHost: x\r\n\r\n"));
    }

    [Theory]
    [InlineData("POST " + Target + " HTTP/1.1\r\nConnection: X-A\r\n\r\n")]
    [InlineData("GET " + Target + "x HTTP/1.1\r\nConnection: X-A\r\n\r\n")]
    [InlineData("GET " + Target + " HTTP/1.0\r\nConnection: X-A\r\n\r\n")]
    [InlineData("")]
    public void Find_WhenTheRequestLineIsNotThere_ReturnsNull(string recorded)
    {
        Assert.Null(Find(recorded));
    }

    [Fact]
    public void Find_UsesTheLastCopyOfTheRequestLine_NotOneInAnEarlierBody()
    {
        var decoy = $"GET {Target} HTTP/1.1\r\nConnection: X-Decoy\r\n\r\n";
        var names = Find("trailing body bytes " + decoy + $"GET {Target} HTTP/1.1\r\nConnection: X-Real\r\n\r\n");

        Assert.Equal(["X-Real"], names);
    }

    [Fact]
    public void Find_WhenAnEarlierBodyEndsMidLine_FindsTheRequestLineAfterIt()
    {
        Assert.Equal(["X-A"], Find($"no newline at the end of this body:GET {Target} HTTP/1.1\r\nConnection: X-A\r\n\r\n"));
    }

    [Fact]
    public void Find_AFieldValueThatQuotesTheRequestLine_IsReadAsAField()
    {
        var names = Find($"GET {Target} HTTP/1.1\r\nConnection: X-A\r\nX-Note: GET {Target} HTTP/1.1\r\nConnection: X-B\r\n\r\n");

        Assert.Equal(["X-A", "X-B"], names);
    }

    [Theory]
    [InlineData("GET " + Target + " HTTP/1.1\r\nConnection: X-A\r\n")]
    [InlineData("GET " + Target + " HTTP/1.1\r\nConnection: X-A\r\n\r\nleftover")]
    [InlineData("Connection: X-A\r\n\r\n")]
    [InlineData("GET " + Target + " HTTP/1.1\r\nnot a field line\r\nConnection: X-A\r\n\r\n")]
    public void Find_WhenTheBytesDoNotEndWithAWholeHead_ReturnsNull(string recorded)
    {
        Assert.Null(Find(recorded));
    }

    [Fact]
    public void Find_SkipsListMembersThatAreNotFieldNames()
    {
        Assert.Equal(["X-A", "X-B"], Find($"GET {Target} HTTP/1.1\r\nConnection: X-A, two words, (x), X-B,,\r\n\r\n"));
    }

    [Fact]
    public void Find_AcceptsBareLineFeeds()
    {
        Assert.Equal(["X-A"], Find($"GET {Target} HTTP/1.1\nConnection: X-A\n\n"));
    }

    [Fact]
    public async Task Recorder_KeepsOnlyTheNewestBytes_AndNothingWhileARequestRuns()
    {
        var pipe = new Pipe();
        var recorder = new RequestHeadRecorder(pipe.Reader, limit: 256);
        try
        {
            // A long leftover (more than the limit), then the head, consumed in small steps as Kestrel does.
            await WriteAsync(pipe, new string('x', 1000));
            await ConsumeAsync(recorder, 1000, step: 300);
            var head = $"GET {Target} HTTP/1.1\r\nConnection: close, X-A\r\n\r\n";
            await WriteAsync(pipe, head);
            await ConsumeAsync(recorder, head.Length, step: 7);
            Assert.Equal(["close", "X-A"], recorder.BeginRequest("GET", Target, "HTTP/1.1"));

            // While the request runs its body is not recorded: a head-shaped body is invisible.
            var body = $"GET {Target} HTTP/1.1\r\nConnection: X-Body\r\n\r\n";
            await WriteAsync(pipe, body);
            await ConsumeAsync(recorder, body.Length, step: body.Length);
            recorder.EndRequest();
            Assert.Null(recorder.BeginRequest("GET", Target, "HTTP/1.1"));
            recorder.EndRequest();

            var next = $"GET {Target} HTTP/1.1\r\nConnection: X-Next\r\n\r\n";
            await WriteAsync(pipe, next);
            await ConsumeAsync(recorder, next.Length, step: 13);
            Assert.Equal(["X-Next"], recorder.BeginRequest("GET", Target, "HTTP/1.1"));
        }
        finally
        {
            recorder.Dispose();
        }
    }

    private static async Task WriteAsync(Pipe pipe, string text)
    {
        await pipe.Writer.WriteAsync(Encoding.Latin1.GetBytes(text), Token);
    }

    private static async Task ConsumeAsync(PipeReader reader, int count, int step)
    {
        while (count > 0)
        {
            var result = await reader.ReadAsync(Token);
            var take = (int)Math.Min(Math.Min(step, count), result.Buffer.Length);
            reader.AdvanceTo(result.Buffer.GetPosition(take));
            count -= take;
        }
    }
}
