using System.Globalization;
using System.Runtime.InteropServices;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// What a process holds, read from /proc (proc(5)): its resident memory, its open files and its soft open-file
/// limit; and, for this process only, the soft limit raised to the hard one. The proxy must be readable by this
/// user (its own processes, or root): /proc/&lt;pid&gt;/fd is not readable otherwise.
/// </summary>
internal static class ProcessResources
{
    /// <summary>RLIMIT_NOFILE in Linux's asm-generic/resource.h.</summary>
    private const int RlimitNoFile = 7;

    /// <summary>Resident memory (VmRSS) in bytes.</summary>
    public static long ResidentBytes(int pid) => ParseResidentBytes(Read(pid, "status"))
        ?? throw new InvalidDataException($"/proc/{pid}/status has no VmRSS line");

    /// <summary>Open file descriptors, counted in /proc/&lt;pid&gt;/fd.</summary>
    public static int OpenFiles(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            throw new InvalidOperationException(
                $"cannot count process {pid}'s open files in /proc/{pid}/fd ({exception.Message}): run as the user that runs it, or as root", exception);
        }
    }

    /// <summary>The soft "Max open files" limit (ulimit -n); <see cref="long.MaxValue"/> when unlimited.</summary>
    public static long OpenFileLimit(int pid) => ParseOpenFileLimit(Read(pid, "limits"))
        ?? throw new InvalidDataException($"/proc/{pid}/limits has no \"Max open files\" line");

    /// <summary>
    /// Raises this process's soft open-file limit to its hard limit, as root may not raise the hard one either when a
    /// container caps it. The runtime does the same on start-up (the CoreCLR PAL), so this is usually a no-op; it
    /// matters when that step is switched off or fails. Returns the soft limit before and after.
    /// </summary>
    public static (long Before, long After) RaiseOwnOpenFileLimit()
    {
        if (Native.GetRLimit(RlimitNoFile, out var limit) != 0)
        {
            var current = OpenFileLimit(Environment.ProcessId);
            return (current, current);
        }

        var before = ToLimit(limit.Current);
        if (limit.Current >= limit.Maximum)
        {
            return (before, before);
        }

        var raised = limit with { Current = limit.Maximum };
        return Native.SetRLimit(RlimitNoFile, in raised) == 0 ? (before, ToLimit(raised.Current)) : (before, before);
    }

    /// <summary>VmRSS from the text of /proc/&lt;pid&gt;/status, in bytes (the file says kB, meaning KiB); null without one.</summary>
    public static long? ParseResidentBytes(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var line in status.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var value = line["VmRSS:".Length..].Trim();
                var space = value.IndexOf(' ');
                return long.Parse(space < 0 ? value : value[..space], NumberStyles.None, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return null;
    }

    /// <summary>The soft limit on the "Max open files" line of /proc/&lt;pid&gt;/limits; null without one.</summary>
    public static long? ParseOpenFileLimit(string limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        foreach (var line in limits.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                // Columns: name, soft limit, hard limit, units; the name has spaces, the values do not.
                var values = line["Max open files".Length..].Trim();
                var end = values.IndexOfAny(' ', '\t');
                var soft = end < 0 ? values : values[..end];
                return soft.SequenceEqual("unlimited") ? long.MaxValue : long.Parse(soft, NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static string Read(int pid, string file)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/{file}");
        }
        catch (Exception exception) when (exception is DirectoryNotFoundException or FileNotFoundException)
        {
            throw new InvalidOperationException($"process {pid} is not running: /proc/{pid}/{file} is gone", exception);
        }
    }

    private static long ToLimit(ulong value) => value >= long.MaxValue ? long.MaxValue : (long)value;

    /// <summary>struct rlimit on 64-bit Linux: two rlim_t (unsigned long); RLIM_INFINITY is all ones.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private record struct RLimit(ulong Current, ulong Maximum);

    // DllImport rather than LibraryImport: two blittable calls need no generated marshalling, and the project need not
    // allow unsafe code for them.
    private static class Native
    {
        [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
        public static extern int GetRLimit(int resource, out RLimit limit);

        [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
        public static extern int SetRLimit(int resource, in RLimit limit);
    }
}
