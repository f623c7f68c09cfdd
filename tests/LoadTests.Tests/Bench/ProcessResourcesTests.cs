using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

public class ProcessResourcesTests
{
    [Theory]
    [InlineData("Name:\tdotnet\nVmPeak:\t 3000 kB\nVmRSS:\t   85432 kB\nRssAnon:\t 1 kB\n", 85_432L * 1024)]
    [InlineData("VmRSS: 0 kB", 0L)]
    public void ParseResidentBytes_StatusText_VmRssInBytes(string status, long expected)
    {
        Assert.Equal(expected, ProcessResources.ParseResidentBytes(status));
    }

    [Fact]
    public void ParseResidentBytes_NoVmRss_Null()
    {
        // A zombie's status has no memory lines.
        Assert.Null(ProcessResources.ParseResidentBytes("Name:\tdefunct\nState:\tZ (zombie)\n"));
    }

    [Theory]
    [InlineData("Max open files            20000                20000                files     \n", 20_000L)]
    [InlineData("Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95657                95657                processes \nMax open files            1024                 1048576              files     \nMax locked memory         8388608              8388608              bytes     \n", 1_024L)]
    [InlineData("Max open files            unlimited            unlimited            files     \n", long.MaxValue)]
    public void ParseOpenFileLimit_LimitsText_SoftLimit(string limits, long expected)
    {
        Assert.Equal(expected, ProcessResources.ParseOpenFileLimit(limits));
    }

    [Fact]
    public void ThisProcess_ReadFromProc_Plausible()
    {
        var pid = Environment.ProcessId;

        var (before, after) = ProcessResources.RaiseOwnOpenFileLimit();

        Assert.True(after >= before);
        Assert.Equal(after, ProcessResources.OpenFileLimit(pid));
        Assert.InRange(ProcessResources.OpenFiles(pid), 3, after);
        Assert.True(ProcessResources.ResidentBytes(pid) > 1024 * 1024);
    }

    [Fact]
    public void ResidentBytes_ProcessGone_SaysSo()
    {
        // Above the kernel's pid_max (at most 2^22), so no process has it.
        var exception = Assert.Throws<InvalidOperationException>(() => ProcessResources.ResidentBytes(5_000_000));

        Assert.Contains("process 5000000 is not running", exception.Message, StringComparison.Ordinal);
    }
}
