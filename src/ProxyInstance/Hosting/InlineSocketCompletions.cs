namespace EgressLab.ProxyInstance.Hosting;

/// <summary>
/// The runtime's half of the <c>InlineSocketCompletions</c> setting. By default .NET hands every socket event from the
/// thread that waits for it (epoll) to the thread pool, which wakes a worker for it: a plain-HTTP request through the
/// proxy cost about three thread switches that way, against 0.8 inline. Inline, the code that continues after a
/// socket operation runs on the waiting thread itself. The proxy never blocks such a thread: its request and tunnel
/// code is asynchronous throughout, and its access log is written by a task of its own.
/// </summary>
/// <remarks>
/// The runtime reads <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> once, when the process opens its first
/// socket, so this must run before any: at the top of <see cref="Program"/>, after the configuration is read (which
/// opens none). A value already in the environment is left as it is, so an operator can still turn it off for the
/// runtime alone with <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c>.
/// </remarks>
internal static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static void Enable()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
