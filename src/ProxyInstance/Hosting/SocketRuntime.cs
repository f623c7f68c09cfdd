using System.Globalization;
using EgressLab.ProxyInstance.Configuration;

namespace EgressLab.ProxyInstance.Hosting;

/// <summary>
/// The runtime's half of the <c>InlineSocketCompletions</c> and <c>SocketThreads</c> settings, which .NET only takes
/// from environment variables.
/// </summary>
/// <remarks>
/// <para>By default .NET hands every socket event from the thread that waits for it (epoll) to the thread pool, which
/// wakes a worker for it: a plain-HTTP request through the proxy cost about three thread switches that way, against
/// 0.8 inline. Inline, the code that continues after a socket operation runs on the waiting thread itself. The proxy
/// never blocks such a thread: its request and tunnel code is asynchronous throughout, and its access log is written
/// by a task of its own.</para>
/// <para>Inline, each socket thread is an event loop, and .NET starts one per processor. <c>SocketThreads</c> sets
/// how many instead.</para>
/// <para>The runtime reads both variables once, when the process opens its first socket, so this must run before
/// any: at the top of <see cref="Program"/>, after the configuration is read (which opens none). A value already in
/// the environment is left as it is, so an operator can still override either for the runtime alone.</para>
/// </remarks>
internal static class SocketRuntime
{
    public const string InlineVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    public const string ThreadCountVariable = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    public static void Apply(RuntimeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.InlineSocketCompletions)
        {
            SetUnlessPresent(InlineVariable, "1");
        }

        if (settings.SocketThreads is { } threads)
        {
            SetUnlessPresent(ThreadCountVariable, threads.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void SetUnlessPresent(string variable, string value)
    {
        if (Environment.GetEnvironmentVariable(variable) is null)
        {
            Environment.SetEnvironmentVariable(variable, value);
        }
    }
}
