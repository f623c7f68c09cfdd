using EgressLab.ProxyInstance.Authentication;

namespace EgressLab.ProxyInstance.Tests.Authentication;

public sealed class ShaCryptTests
{
    private const string LongText = "a very much longer text to encrypt.  This one even stretches over morethan one line.";

    /// <summary>
    /// The test vectors published with Drepper's specification (setting, password, expected crypt output).
    /// Each one is also recomputed with openssl below. Note the spec's "$5$saltstring" result ends in "ZaBBGWEc5".
    /// </summary>
    public static TheoryData<string, string, string> SpecVectors => new()
    {
        { "$5$saltstring", "Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5" },
        { "$5$rounds=10000$saltstringsaltstring", "Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA" },
        { "$5$rounds=5000$toolongsaltstring", "This is just a test", "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5" },
        { "$5$rounds=1400$anotherlongsaltstring", LongText, "$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1" },
        { "$5$rounds=77777$short", "we have a short salt string but not a short password", "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/" },
        { "$5$rounds=123456$asaltof16chars..", "a short string", "$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD" },
        { "$5$rounds=10$roundstoolow", "the minimum number is still observed", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC" },
        { "$6$saltstring", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1" },
        { "$6$rounds=10000$saltstringsaltstring", "Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v." },
        { "$6$rounds=5000$toolongsaltstring", "This is just a test", "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0" },
        { "$6$rounds=1400$anotherlongsaltstring", LongText, "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1" },
        { "$6$rounds=77777$short", "we have a short salt string but not a short password", "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0" },
        { "$6$rounds=123456$asaltof16chars..", "a short string", "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1" },
        { "$6$rounds=10$roundstoolow", "the minimum number is still observed", "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX." },
    };

    [Theory]
    [MemberData(nameof(SpecVectors))]
    public void Hash_SpecVector_MatchesPublishedOutput(string setting, string password, string expected)
    {
        Assert.Equal(expected, ShaCrypt.Hash(password, setting));
    }

    [Theory]
    [MemberData(nameof(SpecVectors))]
    public void Verify_SpecVectorRightPassword_ReturnsTrue(string setting, string password, string expected)
    {
        _ = setting;
        Assert.True(ShaCrypt.IsSupported(expected));
        Assert.True(ShaCrypt.Verify(password, expected));
    }

    [Theory]
    [MemberData(nameof(SpecVectors))]
    public void Verify_SpecVectorWrongPassword_ReturnsFalse(string setting, string password, string expected)
    {
        _ = setting;
        Assert.False(ShaCrypt.Verify(password + "!", expected));
        Assert.False(ShaCrypt.Verify(password.AsSpan(0, password.Length - 1), expected));
        Assert.False(ShaCrypt.Verify(string.Empty, expected));
    }

    [Theory]
    [MemberData(nameof(SpecVectors))]
    public async Task Hash_SpecVector_AgreesWithOpenSsl(string setting, string password, string expected)
    {
        var variant = setting.StartsWith("$6$", StringComparison.Ordinal) ? "-6" : "-5";
        var fromOpenSsl = await OpenSsl.PasswdAsync(password, TestContext.Current.CancellationToken, variant, "-salt", setting[3..]);
        Assert.Equal(expected, fromOpenSsl);
    }

    [Theory]
    [InlineData("-5", "correct horse battery staple")]
    [InlineData("-6", "correct horse battery staple")]
    [InlineData("-6", "pässwörd with ünïcode ✓")]
    [InlineData("-5", "x")]
    [InlineData("-6", " leading and trailing spaces ")]
    public async Task Verify_OpenSslRandomSaltHash_AcceptsOnlyThePassword(string variant, string password)
    {
        var hash = await OpenSsl.PasswdAsync(password, TestContext.Current.CancellationToken, variant);

        Assert.StartsWith(variant == "-6" ? "$6$" : "$5$", hash, StringComparison.Ordinal);
        Assert.True(ShaCrypt.IsSupported(hash));
        Assert.True(ShaCrypt.Verify(password, hash));
        Assert.False(ShaCrypt.Verify(password + "x", hash));
        Assert.False(ShaCrypt.Verify("wrong", hash));
    }

    [Fact]
    public async Task Verify_OpenSslHashWithCustomRounds_AcceptsOnlyThePassword()
    {
        var hash = await OpenSsl.PasswdAsync("s3cret", TestContext.Current.CancellationToken, "-6", "-salt", "rounds=2000$AbCdEfGh/.123456");

        Assert.StartsWith("$6$rounds=2000$AbCdEfGh/.123456$", hash, StringComparison.Ordinal);
        Assert.True(ShaCrypt.Verify("s3cret", hash));
        Assert.False(ShaCrypt.Verify("s3creT", hash));
    }

    [Theory]
    [InlineData("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", true)]
    [InlineData("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", true)]
    [InlineData("$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC", true)]
    [InlineData("$5$$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", true)]
    [InlineData("$5$rounds=99999999999999999999$s$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", true)]
    [InlineData("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc", false)]
    [InlineData("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc55", false)]
    [InlineData("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc_", false)]
    [InlineData("$6$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", false)]
    [InlineData("$5$saltstringsaltstr$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", false)]
    [InlineData("$5$rounds=$s$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", false)]
    [InlineData("$5$rounds=12a$s$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", false)]
    [InlineData("$5$rounds=-5$s$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", false)]
    [InlineData("$5$sa:lt$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", false)]
    [InlineData("$5$sa lt$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", false)]
    [InlineData("$5$saltstring", false)]
    [InlineData("$1$salt$qJH7.N4xYta3aEG/dfqo/0", false)]
    [InlineData("$2y$10$abcdefghijklmnopqrstuuN6j1dq3qZ1cH0Ai0c5l1mTqWnR5x4Jq", false)]
    [InlineData("$apr1$salt$abcdefghijklmnopqrstuv", false)]
    [InlineData("plaintext-password", false)]
    [InlineData("", false)]
    public void IsSupported_Form_ReturnsExpected(string hash, bool expected)
    {
        Assert.Equal(expected, ShaCrypt.IsSupported(hash));
    }

    [Fact]
    public void Verify_UnsupportedHash_ReturnsFalse()
    {
        Assert.False(ShaCrypt.Verify("Hello world!", "$5$saltstring"));
        Assert.False(ShaCrypt.Verify("Hello world!", "Hello world!"));
    }

    [Fact]
    public void Verify_HugeRoundsField_IsClampedNotRejected()
    {
        // "rounds=" above the maximum is clamped by crypt(3), so the hash is well-formed; check only the parse path, not the cost.
        Assert.True(ShaCrypt.IsSupported("$6$rounds=4294967296$x$" + new string('.', 86)));
    }

    [Fact]
    public void Hash_PasswordAtLimit_RoundTrips()
    {
        var password = new string('p', ShaCrypt.MaxPasswordBytes);
        var hash = ShaCrypt.Hash(password, "$5$rounds=1000$limit");

        Assert.True(ShaCrypt.Verify(password, hash));
        Assert.False(ShaCrypt.Verify(password[..^1] + "q", hash));
    }

    [Fact]
    public void Verify_PasswordOverLimit_ReturnsFalseWithoutHashing()
    {
        var password = new string('p', ShaCrypt.MaxPasswordBytes + 1);

        Assert.Throws<ArgumentException>(() => ShaCrypt.Hash(password, "$5$rounds=1000$limit"));
        Assert.False(ShaCrypt.Verify(password, "$5$rounds=1000$limit$" + new string('.', 43)));
    }

    [Fact]
    public void Hash_MultiByteUtf8Password_AgreesWithLimitInBytes()
    {
        // 'é' is two UTF-8 bytes: 128 of them fill the limit, 129 exceed it.
        var fits = new string('é', ShaCrypt.MaxPasswordBytes / 2);
        Assert.True(ShaCrypt.Verify(fits, ShaCrypt.Hash(fits, "$6$rounds=1000$u")));
        Assert.Throws<ArgumentException>(() => ShaCrypt.Hash(fits + "é", "$6$rounds=1000$u"));
    }

    [Theory]
    [InlineData("$1$salt")]
    [InlineData("saltstring")]
    [InlineData("$5$rounds=x$salt")]
    public void Hash_NotShaCryptSetting_Throws(string setting)
    {
        Assert.Throws<ArgumentException>(() => ShaCrypt.Hash("pw", setting));
    }

    [Fact]
    public void Hash_CompleteHashAsSetting_ReusesItsParameters()
    {
        const string Stored = "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";
        Assert.Equal(Stored, ShaCrypt.Hash("Hello world!", Stored));
    }
}
