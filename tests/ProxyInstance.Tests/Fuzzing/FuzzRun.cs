using System.Globalization;
using System.Text;

namespace EgressLab.ProxyInstance.Tests.Fuzzing;

/// <summary>
/// What the live request-head fuzz (<c>RequestHeadFuzzTests</c>) needs: the seed (EGRESS_FUZZ_SEED replays a run,
/// otherwise a fresh one) and the time budget (EGRESS_FUZZ_SECONDS, 5 s by default); and how an input is shown when it
/// fails, which the CsCheck property tests use too.
/// </summary>
internal static class FuzzRun
{
    private const int ShownBytes = 600;

    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("EGRESS_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : Random.Shared.Next();

    public static TimeSpan Budget() => TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("EGRESS_FUZZ_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : 5);

    /// <summary>The input with everything but printable ASCII as <c>\xNN</c>, cut after 600 bytes.</summary>
    public static string Escape(byte[] bytes) =>
        Escape(Encoding.Latin1.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, ShownBytes))))
        + (bytes.Length > ShownBytes ? string.Create(CultureInfo.InvariantCulture, $"… ({bytes.Length} bytes)") : "");

    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            escaped.Append(c is >= ' ' and < (char)0x7f ? c.ToString() : $"\\x{(int)c:x2}");
        }

        return escaped.ToString();
    }
}
