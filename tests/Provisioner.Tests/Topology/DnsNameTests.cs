using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

public sealed class DnsNameTests
{
    [Theory]
    [InlineData("checkip.lab.test", false)]
    [InlineData("a", false)]
    [InlineData("1password.com", false)]
    [InlineData("xn--bcher-kva.example", false)]
    [InlineData(".lab.test", true)]
    public void Problem_ValidName_IsNull(string name, bool allowLeadingDot) =>
        Assert.Null(DnsName.Problem(name, allowLeadingDot));

    [Theory]
    [InlineData("", true, "empty")]
    [InlineData(".", true, "empty")]
    [InlineData(".lab.test", false, "starts with a dot")]
    [InlineData("*.lab.test", true, "write '.lab.test'")]
    [InlineData("lab.test.", true, "trailing dot")]
    [InlineData("lab..test", true, "empty label")]
    [InlineData("Lab.test", true, "upper-case")]
    [InlineData("www_lab.test", true, "character other than")]
    [InlineData("-www.lab.test", true, "starts or ends with '-'")]
    [InlineData("www-.lab.test", true, "starts or ends with '-'")]
    public void Problem_InvalidName_SaysWhatIsWrong(string name, bool allowLeadingDot, string phrase) =>
        Assert.Contains(phrase, DnsName.Problem(name, allowLeadingDot), StringComparison.Ordinal);

    [Fact]
    public void Problem_LabelOf64Characters_IsTooLong() =>
        Assert.Contains("longer than 63", DnsName.Problem(new string('a', 64) + ".test", allowLeadingDot: false), StringComparison.Ordinal);

    [Fact]
    public void Problem_NameOf254Characters_IsTooLong()
    {
        var name = string.Join('.', Enumerable.Repeat(new string('a', 49), 5)) + ".abcd";

        Assert.Equal(254, name.Length);
        Assert.Contains("at most 253", DnsName.Problem(name, allowLeadingDot: false), StringComparison.Ordinal);
        Assert.Null(DnsName.Problem(name[1..], allowLeadingDot: false));
    }
}
