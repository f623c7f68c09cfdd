using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EgressLab.LoadTests.Measurement;
using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Bench;

/// <summary>What the idle-tunnels figure opens, holds and measures.</summary>
/// <param name="Proxy">Where the proxy listens.</param>
/// <param name="ProxyPid">The proxy's process, whose memory and open files are read from /proc.</param>
/// <param name="TargetAuthority">The host:port each CONNECT asks for.</param>
/// <param name="Count">Tunnels to open; fewer when the open-file limits do not fit them (see <see cref="TunnelBudget"/>).</param>
/// <param name="Hold">How long the tunnels stay open and idle while the proxy's memory is sampled.</param>
/// <param name="SampleInterval">Time between memory samples during the hold.</param>
/// <param name="Concurrency">Tunnels being opened, or verified, at once.</param>
internal sealed record IdleTunnelsOptions(IPEndPoint Proxy, int ProxyPid, string TargetAuthority, int Count, TimeSpan Hold, TimeSpan SampleInterval, int Concurrency)
{
    /// <summary>Each tunnel's TCP connect and the proxy's answer to its CONNECT, together. The default is 10 seconds.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>All the tunnels' opening; those not open by then fail as timeouts. The default is 5 minutes.</summary>
    public TimeSpan OpenPhaseLimit { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Each tunnel's request after the hold and the status line of its answer. The default is 10 seconds.</summary>
    public TimeSpan VerifyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>All the tunnels' verification; those not answered by then fail as timeouts. The default is 2 minutes.</summary>
    public TimeSpan VerifyPhaseLimit { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// What is sent through each tunnel after the hold, an HTTP/1.1 request whose answer's status line proves the
    /// tunnel alive end to end. The default (null) is <c>GET / HTTP/1.1</c> with <c>Host: </c><see cref="TargetAuthority"/>.
    /// </summary>
    public string? VerifyRequest { get; init; }

    /// <summary>Samples of the idle proxy's resident memory whose median is the baseline. The default is 5.</summary>
    public int BaselineSamples { get; init; } = 5;

    /// <summary>Time between baseline samples. The default is 0.5 seconds: 5 samples span 2 seconds.</summary>
    public TimeSpan BaselineInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Descriptors each process keeps spare beyond the tunnels'. The default is 64.</summary>
    public int DescriptorReserve { get; init; } = 64;

    /// <summary>Every problem with these options, each saying how to fix it; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Proxy is null)
        {
            errors.Add("Proxy: give the proxy's listening address.");
        }

        if (ProxyPid <= 0)
        {
            errors.Add($"ProxyPid: {ProxyPid} is not a process id; give the proxy's.");
        }

        if (!IsAuthority(TargetAuthority))
        {
            errors.Add($"TargetAuthority: '{TargetAuthority}' is not host:port, such as 127.0.0.1:8080 or www.lab.test:80.");
        }

        if (Count < 1)
        {
            errors.Add($"Count: {Count} must be at least 1.");
        }

        if (Concurrency < 1)
        {
            errors.Add($"Concurrency: {Concurrency} must be at least 1.");
        }

        if (Hold < TimeSpan.Zero)
        {
            errors.Add($"Hold: {Hold} must not be negative.");
        }

        if (SampleInterval <= TimeSpan.Zero)
        {
            errors.Add($"SampleInterval: {SampleInterval} must be positive, such as 1 second.");
        }

        foreach (var (name, value) in new[] { ("OpenTimeout", OpenTimeout), ("OpenPhaseLimit", OpenPhaseLimit), ("VerifyTimeout", VerifyTimeout), ("VerifyPhaseLimit", VerifyPhaseLimit) })
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name}: {value} must be positive.");
            }
        }

        if (BaselineSamples < 1)
        {
            errors.Add($"BaselineSamples: {BaselineSamples} must be at least 1.");
        }

        if (BaselineInterval < TimeSpan.Zero)
        {
            errors.Add($"BaselineInterval: {BaselineInterval} must not be negative.");
        }

        if (DescriptorReserve < 0)
        {
            errors.Add($"DescriptorReserve: {DescriptorReserve} must not be negative.");
        }

        if (VerifyRequest is { } request && !request.EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            errors.Add("VerifyRequest: end the request head with an empty line (CRLF CRLF).");
        }

        return errors;
    }

    /// <summary>host:port with a port from 1 to 65535, and nothing that could end a request line.</summary>
    private static bool IsAuthority(string? authority)
    {
        var colon = authority?.LastIndexOf(':') ?? -1;
        return colon > 0
            && !authority!.AsSpan().ContainsAny(" \t\r\n/")
            && int.TryParse(authority.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535;
    }
}

/// <summary>The proxy's resident memory at <paramref name="Seconds"/> from the start of the hold.</summary>
internal sealed record RssSample(double Seconds, long RssBytes);

/// <summary>Tunnels that failed the same way: the error class (for a refusal, with the proxy's status), how many, and the first one's message.</summary>
internal sealed record TunnelFailures(RequestError Error, int Status, int Count, string FirstMessage)
{
    /// <summary>connect-refused-403 for a refusal; otherwise the class names of run results (timeout, reset...).</summary>
    public string Kind => Error == RequestError.ConnectRefused
        ? "connect-refused-" + Status.ToString(CultureInfo.InvariantCulture)
        : RequestErrorNames.Of(Error, Status);
}

/// <summary>The memory figures of a hold; see <see cref="IdleTunnelsResult"/>.</summary>
internal readonly record struct IdleTunnelsFigures(long PeakAboveBaselineBytes, double BytesPerTunnel, double HoldGrowthBytesPerTunnel, double HoldSlopeBytesPerSecond);

/// <summary>What the idle-tunnels figure found.</summary>
/// <param name="Attempted">Tunnels tried: <paramref name="Requested"/>, or fewer when the open-file limits say so (<paramref name="LimitNote"/>).</param>
/// <param name="Opened">Tunnels the proxy answered 2xx, held open for the whole hold.</param>
/// <param name="Verified">Open tunnels that answered a request after the hold, end to end.</param>
/// <param name="LimitNote">Why fewer than requested were tried, such as "9,960 of 10,000: the proxy's open-file limit is 20,000 (ulimit -n), 2 per tunnel, ..."; null when all were.</param>
/// <param name="BaselineRssBytes">The idle proxy's resident memory before any tunnel: the median of its samples.</param>
/// <param name="HoldSamples">The proxy's resident memory during the hold, the first right after the last tunnel opened; empty when none opened.</param>
/// <param name="PeakAboveBaselineBytes">The largest hold sample less the baseline.</param>
/// <param name="BytesPerTunnel"><paramref name="PeakAboveBaselineBytes"/> per opened tunnel.</param>
/// <param name="HoldGrowthBytesPerTunnel">The last hold sample less the first, per opened tunnel: near zero when memory is flat over the hold.</param>
/// <param name="HoldSlopeBytesPerSecond">The least-squares slope of the hold samples; 0 with fewer than two.</param>
/// <param name="OpenFailures">Tunnels that did not open, by how they failed.</param>
/// <param name="VerifyFailures">Open tunnels that did not answer after the hold, by how they failed.</param>
internal sealed record IdleTunnelsResult(
    int Requested,
    int Attempted,
    int Opened,
    int Verified,
    string? LimitNote,
    long BaselineRssBytes,
    IReadOnlyList<RssSample> HoldSamples,
    long PeakAboveBaselineBytes,
    double BytesPerTunnel,
    double HoldGrowthBytesPerTunnel,
    double HoldSlopeBytesPerSecond,
    IReadOnlyList<TunnelFailures> OpenFailures,
    IReadOnlyList<TunnelFailures> VerifyFailures,
    TimeSpan OpenDuration,
    TimeSpan VerifyDuration)
{
    /// <summary>How many tunnels failed to open and why, such as "3 of 10,000 tunnels failed to open: 3 timeout (first: ...)"; null when none did.</summary>
    public string? OpenFailureNote => FailureNote(OpenFailures, Attempted, "failed to open");

    /// <summary>How many open tunnels did not answer after the hold and why; null when all did.</summary>
    public string? VerifyFailureNote => FailureNote(VerifyFailures, Opened, "did not answer after the hold");

    private static string? FailureNote(IReadOnlyList<TunnelFailures> failures, int of, string what)
    {
        if (failures.Count == 0)
        {
            return null;
        }

        var total = 0;
        var kinds = new StringBuilder();
        foreach (var failure in failures)
        {
            total += failure.Count;
            kinds.Append(kinds.Length == 0 ? string.Empty : "; ").Append(CultureInfo.InvariantCulture, $"{failure.Count:N0} {failure.Kind} (first: {failure.FirstMessage})");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{total:N0} of {of:N0} tunnels {what}: {kinds}");
    }
}

/// <summary>
/// The "idle open tunnels" memory figure: the proxy's resident memory above its idle baseline, per tunnel, while
/// many CONNECT tunnels stay open and silent, and whether it stays flat over the hold. Opens as many tunnels as the
/// open-file limits fit, holds them idle while sampling the proxy's VmRSS, then proves every one still alive by a
/// request through it, and closes them all whatever happens. Every connect and read is bounded, and so is every
/// phase, so a run ends by itself.
/// </summary>
/// <remarks>
/// The proxy must let these tunnels be: they carry plain HTTP and stay silent far longer than Timeouts.ClientHello, so
/// its Policy.RequireSniMatch must be Off (or the proxy closes each after that timeout, and verification says so);
/// Limits.MaxConnections (10,000 by default) must be at least the count, and Timeouts.TunnelIdle (5 minutes) longer
/// than the hold; the target must accept that many connections too. Run it on a freshly started proxy: a .NET process
/// keeps the memory an earlier run made it take, which then sits in the baseline.
/// </remarks>
internal static class IdleTunnels
{
    private const string Label = "idle-tunnels: ";

    // The proxy's answer to CONNECT: a head and, for a refusal, a one-line body.
    private const int AnswerBufferSize = 4 * 1024;

    // The answer to the verifying request; only its head is read, and a longer one is refused rather than grown.
    private const int VerifyBufferSize = 16 * 1024;

    private const double MiB = 1024 * 1024;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    public static async Task<IdleTunnelsResult> RunAsync(IdleTunnelsOptions options, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("idle-tunnels options: " + string.Join(" ", errors), nameof(options));
        }

        var (limitBefore, limitAfter) = ProcessResources.RaiseOwnOpenFileLimit();
        if (limitAfter > limitBefore)
        {
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{Label}raised this process's open-file limit from {limitBefore:N0} to its hard limit, {limitAfter:N0}")).ConfigureAwait(false);
        }

        var baseline = await BaselineAsync(options, cancellationToken).ConfigureAwait(false);
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{Label}baseline {baseline / MiB:F1} MiB resident (median of {options.BaselineSamples})")).ConfigureAwait(false);

        var own = Environment.ProcessId;
        var budget = TunnelBudget.Plan(
            options.Count,
            new OpenFileUsage(ProcessResources.OpenFileLimit(options.ProxyPid), ProcessResources.OpenFiles(options.ProxyPid)),
            new OpenFileUsage(ProcessResources.OpenFileLimit(own), ProcessResources.OpenFiles(own)),
            sameProcess: options.ProxyPid == own,
            options.DescriptorReserve);
        if (budget.LimitNote is { } note)
        {
            await progress.WriteLineAsync($"{Label}opening {note}").ConfigureAwait(false);
        }

        var run = new Run(options, budget.Tunnels);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await run.OpenAllAsync(progress, cancellationToken).ConfigureAwait(false);
            var openDuration = Stopwatch.GetElapsedTime(started);
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{Label}{run.Opened:N0} of {budget.Tunnels:N0} open in {openDuration.TotalSeconds:F1} s, {run.OpenFailures.Total:N0} failed")).ConfigureAwait(false);

            IReadOnlyList<RssSample> samples = [];
            var verifyDuration = TimeSpan.Zero;
            if (run.Opened > 0)
            {
                samples = await HoldAsync(options, baseline, run.Opened, progress, cancellationToken).ConfigureAwait(false);
                started = Stopwatch.GetTimestamp();
                await run.VerifyAllAsync(progress, cancellationToken).ConfigureAwait(false);
                verifyDuration = Stopwatch.GetElapsedTime(started);
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{Label}{run.Verified:N0} of {run.Opened:N0} answered after the hold, in {verifyDuration.TotalSeconds:F1} s")).ConfigureAwait(false);
            }

            var figures = Figures(baseline, samples, run.Opened);
            return new IdleTunnelsResult(options.Count, budget.Tunnels, run.Opened, run.Verified, budget.LimitNote, baseline, samples,
                figures.PeakAboveBaselineBytes, figures.BytesPerTunnel, figures.HoldGrowthBytesPerTunnel, figures.HoldSlopeBytesPerSecond,
                run.OpenFailures.ToList(), run.VerifyFailures.ToList(), openDuration, verifyDuration);
        }
        finally
        {
            var closed = run.CloseAll();
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{Label}closed {closed:N0} tunnels")).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The figures from the baseline and the hold's samples. With no samples or no tunnels they are 0; the peak may be
    /// negative when the proxy gave memory back after the baseline.
    /// </summary>
    public static IdleTunnelsFigures Figures(long baselineBytes, IReadOnlyList<RssSample> samples, int opened)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0 || opened <= 0)
        {
            return default;
        }

        var peak = long.MinValue;
        foreach (var sample in samples)
        {
            peak = Math.Max(peak, sample.RssBytes);
        }

        var aboveBaseline = peak - baselineBytes;
        return new IdleTunnelsFigures(
            aboveBaseline,
            aboveBaseline / (double)opened,
            (samples[^1].RssBytes - samples[0].RssBytes) / (double)opened,
            Slope(samples));
    }

    /// <summary>The least-squares slope of resident bytes over seconds; 0 with fewer than two distinct times.</summary>
    private static double Slope(IReadOnlyList<RssSample> samples)
    {
        double meanX = 0, meanY = 0;
        foreach (var sample in samples)
        {
            meanX += sample.Seconds;
            meanY += sample.RssBytes;
        }

        meanX /= samples.Count;
        meanY /= samples.Count;
        double covariance = 0, variance = 0;
        foreach (var sample in samples)
        {
            covariance += (sample.Seconds - meanX) * (sample.RssBytes - meanY);
            variance += (sample.Seconds - meanX) * (sample.Seconds - meanX);
        }

        return variance > 0 ? covariance / variance : 0;
    }

    /// <summary>The median of the idle proxy's resident memory, sampled <see cref="IdleTunnelsOptions.BaselineSamples"/> times.</summary>
    private static async Task<long> BaselineAsync(IdleTunnelsOptions options, CancellationToken cancellationToken)
    {
        var samples = new long[options.BaselineSamples];
        for (var i = 0; i < samples.Length; i++)
        {
            if (i > 0)
            {
                await Task.Delay(options.BaselineInterval, cancellationToken).ConfigureAwait(false);
            }

            samples[i] = ProcessResources.ResidentBytes(options.ProxyPid);
        }

        Array.Sort(samples);
        var middle = samples.Length / 2;
        return samples.Length % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2;
    }

    /// <summary>Samples the proxy's resident memory at the start of the hold, every interval, and at its end.</summary>
    private static async Task<List<RssSample>> HoldAsync(IdleTunnelsOptions options, long baseline, int opened, TextWriter progress, CancellationToken cancellationToken)
    {
        // A hair under a whole number of intervals counts as that number, so 2 s at 0.5 s gives 5 samples, not 6.
        var intervals = (int)Math.Ceiling((options.Hold / options.SampleInterval) - 1e-9);
        var samples = new List<RssSample>(intervals + 1);
        var start = Stopwatch.GetTimestamp();
        var lastReport = start;
        for (var k = 0; k <= intervals; k++)
        {
            var due = k == intervals ? options.Hold : options.SampleInterval * k;
            // Task.Delay counts whole milliseconds and may wake a little early: wait until the sample is due, not before.
            TimeSpan wait;
            while ((wait = due - Stopwatch.GetElapsedTime(start)) > TimeSpan.Zero)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), cancellationToken).ConfigureAwait(false);
            }

            var rss = ProcessResources.ResidentBytes(options.ProxyPid);
            var now = Stopwatch.GetTimestamp();
            samples.Add(new RssSample(Stopwatch.GetElapsedTime(start, now).TotalSeconds, rss));
            // About a line a second: at 1 s intervals, a sample a few milliseconds early still gets its line.
            if (k == 0 || k == intervals || Stopwatch.GetElapsedTime(lastReport, now) >= ProgressInterval * 0.9)
            {
                lastReport = now;
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{Label}hold {samples[^1].Seconds,4:F0}/{options.Hold.TotalSeconds:F0} s: {rss / MiB:F1} MiB resident, {(rss - baseline) / (double)opened / 1024:F1} KiB per tunnel above baseline")).ConfigureAwait(false);
            }
        }

        return samples;
    }

    /// <summary>Writes a progress line every second until <paramref name="work"/> ends, then awaits it.</summary>
    private static async Task ReportWhileAsync(Task work, Func<string> describe, TextWriter progress, CancellationToken cancellationToken)
    {
        // Once cancelled, the work (which observes the same token) ends soon: wait for it without a line a second.
        while (!work.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            var tick = Task.Delay(ProgressInterval, cancellationToken);
            if (await Task.WhenAny(work, tick).ConfigureAwait(false) == tick && tick.IsCompletedSuccessfully)
            {
                await progress.WriteLineAsync(Label + describe()).ConfigureAwait(false);
            }
        }

        await work.ConfigureAwait(false);
    }

    /// <summary>The tunnels of one run and what happened to them; each slot is written by one opening at a time.</summary>
    private sealed class Run(IdleTunnelsOptions options, int count)
    {
        private readonly Socket?[] _tunnels = new Socket?[count];
        private readonly byte[] _connectRequest = Encoding.ASCII.GetBytes(
            $"CONNECT {options.TargetAuthority} HTTP/1.1\r\nHost: {options.TargetAuthority}\r\nUser-Agent: egress-lab-load/1.0\r\n\r\n");
        private readonly byte[] _verifyRequest = Encoding.ASCII.GetBytes(
            options.VerifyRequest ?? $"GET / HTTP/1.1\r\nHost: {options.TargetAuthority}\r\nUser-Agent: egress-lab-load/1.0\r\nAccept: */*\r\n\r\n");
        private int _attempted;
        private int _opened;
        private int _verified;

        public int Opened => Volatile.Read(ref _opened);
        public int Verified => Volatile.Read(ref _verified);
        public FailureTally OpenFailures { get; } = new();
        public FailureTally VerifyFailures { get; } = new();

        public async Task OpenAllAsync(TextWriter progress, CancellationToken cancellationToken)
        {
            using var phase = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            phase.CancelAfter(options.OpenPhaseLimit);
            var work = Parallel.ForEachAsync(
                Enumerable.Range(0, _tunnels.Length),
                new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken },
                (index, _) => OpenAsync(index, phase.Token, cancellationToken));
            await ReportWhileAsync(work, () => string.Create(CultureInfo.InvariantCulture,
                $"opening {Volatile.Read(ref _attempted):N0}/{_tunnels.Length:N0}: {Opened:N0} open, {OpenFailures.Total:N0} failed"), progress, cancellationToken).ConfigureAwait(false);
        }

        public async Task VerifyAllAsync(TextWriter progress, CancellationToken cancellationToken)
        {
            using var phase = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            phase.CancelAfter(options.VerifyPhaseLimit);
            var work = Parallel.ForEachAsync(
                Enumerable.Range(0, _tunnels.Length),
                new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken },
                (index, _) => VerifyAsync(index, phase.Token, cancellationToken));
            await ReportWhileAsync(work, () => string.Create(CultureInfo.InvariantCulture,
                $"verifying: {Verified:N0} of {Opened:N0} answered, {VerifyFailures.Total:N0} failed"), progress, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Closes every tunnel and returns how many were open.</summary>
        public int CloseAll()
        {
            var closed = 0;
            for (var i = 0; i < _tunnels.Length; i++)
            {
                if (_tunnels[i] is { } socket)
                {
                    socket.Dispose();
                    _tunnels[i] = null;
                    closed++;
                }
            }

            return closed;
        }

        private async ValueTask OpenAsync(int index, CancellationToken phase, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempted);
            if (phase.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                OpenFailures.Add(RequestError.Timeout, 0, $"not tried: opening took longer than its limit of {options.OpenPhaseLimit}");
                return;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(phase);
            timeout.CancelAfter(options.OpenTimeout);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var buffer = ArrayPool<byte>.Shared.Rent(AnswerBufferSize);
            var stage = "TCP connection to the proxy";
            try
            {
                await socket.ConnectAsync(options.Proxy, timeout.Token).ConfigureAwait(false);
                stage = "answer to CONNECT";
                await socket.SendAsync(_connectRequest, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                var answer = await ReadConnectAnswerAsync(socket, buffer, timeout.Token).ConfigureAwait(false);
                if (answer.Status is < 200 or > 299)
                {
                    OpenFailures.Add(RequestError.ConnectRefused, answer.Status,
                        string.Create(CultureInfo.InvariantCulture, $"the proxy answered CONNECT {options.TargetAuthority} with {answer.Status}: {answer.Reason}"));
                    return;
                }

                _tunnels[index] = socket;
                socket = null;
                Interlocked.Increment(ref _opened);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception exception) when (ErrorClassifier.IsRequestFailure(exception))
            {
                OpenFailures.Add(ErrorClassifier.Classify(exception), 0, Describe(exception, stage, phase.IsCancellationRequested, options.OpenTimeout, options.OpenPhaseLimit, "opening"));
            }
            finally
            {
                socket?.Dispose();
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private async ValueTask VerifyAsync(int index, CancellationToken phase, CancellationToken cancellationToken)
        {
            if (_tunnels[index] is not { } socket)
            {
                return;
            }

            if (phase.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                VerifyFailures.Add(RequestError.Timeout, 0, $"not tried: verifying took longer than its limit of {options.VerifyPhaseLimit}");
                return;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(phase);
            timeout.CancelAfter(options.VerifyTimeout);
            var buffer = ArrayPool<byte>.Shared.Rent(VerifyBufferSize);
            var stream = new NetworkStream(socket, ownsSocket: false);
            try
            {
                await stream.WriteAsync(_verifyRequest, timeout.Token).ConfigureAwait(false);
                await new Http1ResponseReader(stream, buffer).ReadHeadAsync(timeout.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _verified);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception exception) when (ErrorClassifier.IsRequestFailure(exception))
            {
                VerifyFailures.Add(ErrorClassifier.Classify(exception), 0,
                    Describe(exception, "answer through the tunnel", phase.IsCancellationRequested, options.VerifyTimeout, options.VerifyPhaseLimit, "verifying"));
            }
            finally
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private static string Describe(Exception exception, string stage, bool phaseOver, TimeSpan timeout, TimeSpan phaseLimit, string phaseName) =>
            exception is OperationCanceledException
                ? phaseOver
                    ? $"{phaseName} took longer than its limit of {phaseLimit}, waiting for {stage}"
                    : $"no {stage} within {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s"
                : $"{stage}: {exception.Message}";

        /// <summary>Reads the proxy's answer to CONNECT, and makes sure nothing follows a 2xx before the client speaks.</summary>
        private static async Task<ConnectAnswer> ReadConnectAnswerAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
        {
            var filled = 0;
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(filled, AnswerBufferSize - filled), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                filled += read;
                var final = read == 0 || filled == AnswerBufferSize;
                if (ConnectAnswer.TryParse(buffer.AsSpan(0, filled), final, out var answer))
                {
                    if (answer.Status is >= 200 and <= 299 && filled > answer.HeadLength)
                    {
                        throw new HttpIOException(HttpRequestError.InvalidResponse, "the proxy sent bytes after its answer to CONNECT");
                    }

                    return answer;
                }

                if (final)
                {
                    throw read == 0
                        ? new HttpIOException(HttpRequestError.ResponseEnded, "the proxy closed the connection before it answered CONNECT")
                        : new HttpIOException(HttpRequestError.InvalidResponse, $"the proxy's answer to CONNECT is longer than {AnswerBufferSize} bytes");
                }
            }
        }
    }

    /// <summary>Failures by class and status, keeping the first message of each; thread-safe.</summary>
    private sealed class FailureTally
    {
        private readonly Lock _lock = new();
        private readonly List<TunnelFailures> _failures = [];
        private int _total;

        public int Total => Volatile.Read(ref _total);

        public void Add(RequestError error, int status, string message)
        {
            lock (_lock)
            {
                _total++;
                var index = _failures.FindIndex(f => f.Error == error && f.Status == status);
                if (index < 0)
                {
                    _failures.Add(new TunnelFailures(error, status, 1, message));
                }
                else
                {
                    _failures[index] = _failures[index] with { Count = _failures[index].Count + 1 };
                }
            }
        }

        public List<TunnelFailures> ToList()
        {
            lock (_lock)
            {
                return [.. _failures.OrderByDescending(f => f.Count)];
            }
        }
    }
}
