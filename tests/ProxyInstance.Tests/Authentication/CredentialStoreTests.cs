using EgressLab.ProxyInstance.Authentication;

namespace EgressLab.ProxyInstance.Tests.Authentication;

public sealed class CredentialStoreTests : IDisposable
{
    // "Hello world!" under the spec's salts.
    private const string Sha512Hash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
    private const string Sha256Hash = "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA";

    private readonly string _directory = Directory.CreateTempSubdirectory("credential-store-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void TryLoad_ValidFile_VerifiesEachUser()
    {
        var path = Write(
            "# proxy users\r\n" +
            "\r\n" +
            "alice:" + Sha512Hash + "\r\n" +
            "   # indented comment\n" +
            "bob.smith@example.com:" + Sha256Hash + "   \n");

        var errors = new List<string>();
        Assert.True(CredentialStore.TryLoad(path, errors, out var store), string.Join('\n', errors));
        Assert.Empty(errors);
        Assert.Equal(2, store.Count);

        Assert.True(store.Verify("alice", "Hello world!"));
        Assert.True(store.Verify("bob.smith@example.com", "Hello world!"));
        Assert.False(store.Verify("alice", "hello world!"));
        Assert.False(store.Verify("Alice", "Hello world!"));
        Assert.False(store.Verify("carol", "Hello world!"));
        Assert.False(store.Verify(string.Empty, string.Empty));
    }

    [Fact]
    public async Task TryLoad_HashesFromOpenSsl_Verify()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = await OpenSsl.PasswdAsync("alice-pw", ct, "-6");
        var bob = await OpenSsl.PasswdAsync("bob-pw", ct, "-5");
        var path = Write($"alice:{alice}\nbob:{bob}\n");

        var errors = new List<string>();
        Assert.True(CredentialStore.TryLoad(path, errors, out var store), string.Join('\n', errors));
        Assert.True(store.Verify("alice", "alice-pw"));
        Assert.True(store.Verify("bob", "bob-pw"));
        Assert.False(store.Verify("alice", "bob-pw"));
        Assert.False(store.Verify("bob", "alice-pw"));
    }

    [Theory]
    [InlineData("alice:hunter2", 1, "not a hash")]
    [InlineData("# c\nalice:" + Sha512Hash + "\nbob:hunter2", 3, "openssl passwd -6")]
    [InlineData("alice:$2y$10$abcdefghijklmnopqrstuuN6j1dq3qZ1cH0Ai0c5l1mTqWnR5x4Jq", 1, "not supported")]
    [InlineData("alice:$1$salt$qJH7.N4xYta3aEG/dfqo/0", 1, "not supported")]
    [InlineData("alice:$6$saltstring$tooShort", 1, "malformed")]
    [InlineData("alice:" + Sha512Hash + ":19000:0:99999:7:::", 1, "malformed")]
    [InlineData("alice:", 1, "empty")]
    [InlineData("alice " + Sha512Hash, 1, "no ':'")]
    [InlineData(":" + Sha512Hash, 1, "user name is empty")]
    [InlineData("al\u0001ice:" + Sha512Hash, 1, "control character")]
    [InlineData("alice:" + Sha512Hash + "\n\nalice:" + Sha256Hash, 3, "already defined on line 1")]
    public void TryLoad_BadLine_ReportsFileAndLine(string content, int line, string fragment)
    {
        var path = Write(content);

        var errors = new List<string>();
        Assert.False(CredentialStore.TryLoad(path, errors, out var store));
        Assert.Null(store);
        var error = Assert.Single(errors);
        Assert.StartsWith($"{path}:{line}: ", error, StringComparison.Ordinal);
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_PlainTextPassword_ErrorExplainsFixWithoutEchoingPassword()
    {
        var path = Write("alice:CorrectHorseBatteryStaple\n");

        var errors = new List<string>();
        Assert.False(CredentialStore.TryLoad(path, errors, out _));
        var error = Assert.Single(errors);
        Assert.Contains("openssl passwd -6", error, StringComparison.Ordinal);
        Assert.DoesNotContain("CorrectHorseBatteryStaple", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_SeveralBadLines_ReportsEveryOne()
    {
        var path = Write("a:x\nb:" + Sha512Hash + "\nc:y\n");

        var errors = new List<string>();
        Assert.False(CredentialStore.TryLoad(path, errors, out _));
        Assert.Collection(
            errors,
            e => Assert.StartsWith(path + ":1: ", e, StringComparison.Ordinal),
            e => Assert.StartsWith(path + ":3: ", e, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nobody yet\n\n")]
    public void TryLoad_NoUsers_Fails(string content)
    {
        var path = Write(content);

        var errors = new List<string>();
        Assert.False(CredentialStore.TryLoad(path, errors, out _));
        Assert.Contains("no users", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_MissingFile_Fails()
    {
        var path = Path.Combine(_directory, "absent.txt");

        var errors = new List<string>();
        Assert.False(CredentialStore.TryLoad(path, errors, out _));
        Assert.StartsWith(path + ": ", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_ErrorsListAlreadyHoldsEntries_JudgesOnlyThisFile()
    {
        var path = Write("alice:" + Sha512Hash + "\n");

        var errors = new List<string> { "earlier problem" };
        Assert.True(CredentialStore.TryLoad(path, errors, out var store));
        Assert.NotNull(store);
        Assert.Single(errors);
    }

    [Fact]
    public void Verify_Success_IsCachedOnce()
    {
        var store = Load("alice:" + Sha512Hash);

        Assert.Equal(0, store.CachedCount);
        Assert.True(store.Verify("alice", "Hello world!"));
        Assert.Equal(1, store.CachedCount);
        Assert.True(store.Verify("alice", "Hello world!"));
        Assert.Equal(1, store.CachedCount);
    }

    [Fact]
    public void Verify_Failure_IsNotCached()
    {
        var store = Load("alice:" + Sha512Hash);

        Assert.False(store.Verify("alice", "wrong"));
        Assert.False(store.Verify("mallory", "Hello world!"));
        Assert.Equal(0, store.CachedCount);

        // A cached success for one password never vouches for another.
        Assert.True(store.Verify("alice", "Hello world!"));
        Assert.False(store.Verify("alice", "wrong"));
    }

    [Fact]
    public void Verify_NewStore_StartsWithEmptyCache()
    {
        var first = Load("alice:" + Sha512Hash);
        Assert.True(first.Verify("alice", "Hello world!"));

        var second = Load("alice:" + Sha256Hash);
        Assert.Equal(0, second.CachedCount);
        Assert.True(second.Verify("alice", "Hello world!"));
    }

    [Fact]
    public void Verify_MoreDistinctSuccessesThanCacheHolds_StaysBounded()
    {
        // One hash shared by every user keeps the setup cheap; the cache key includes the user, so each is an entry.
        var hash = ShaCrypt.Hash("pw", "$5$rounds=1000$shared");
        var lines = new List<string>();
        for (var i = 0; i <= CredentialStore.MaxCacheEntries; i++)
        {
            lines.Add($"user{i}:{hash}");
        }

        var store = Load(string.Join('\n', lines));
        for (var i = 0; i < CredentialStore.MaxCacheEntries; i++)
        {
            Assert.True(store.Verify($"user{i}", "pw"));
        }

        Assert.Equal(CredentialStore.MaxCacheEntries, store.CachedCount);
        Assert.True(store.Verify($"user{CredentialStore.MaxCacheEntries}", "pw"));

        // A full cache is emptied rather than grown: only the newest success remains.
        Assert.Equal(1, store.CachedCount);
        Assert.True(store.Verify("user0", "pw"));
        Assert.Equal(2, store.CachedCount);
    }

    [Fact]
    public async Task Verify_ConcurrentCallers_AllAnsweredCorrectly()
    {
        var lines = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            lines.Add($"user{i}:" + ShaCrypt.Hash($"pw{i}", $"$6$rounds=1000$s{i}"));
        }

        var store = Load(string.Join('\n', lines));
        var tasks = new Task<int>[16];
        for (var t = 0; t < tasks.Length; t++)
        {
            var seed = t;
            tasks[t] = Task.Run(
                () =>
                {
                    var mistakes = 0;
                    for (var n = 0; n < 50; n++)
                    {
                        var i = (seed + n) % 8;
                        mistakes += store.Verify($"user{i}", $"pw{i}") ? 0 : 1;
                        mistakes += store.Verify($"user{i}", $"pw{i + 1}") ? 1 : 0;
                    }

                    return mistakes;
                },
                TestContext.Current.CancellationToken);
        }

        var results = await Task.WhenAll(tasks);
        Assert.All(results, r => Assert.Equal(0, r));
        Assert.Equal(8, store.CachedCount);
    }

    private CredentialStore Load(string content)
    {
        var errors = new List<string>();
        Assert.True(CredentialStore.TryLoad(Write(content), errors, out var store), string.Join('\n', errors));
        return store;
    }

    private string Write(string content)
    {
        var path = Path.Combine(_directory, $"users-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, content);
        return path;
    }
}
