using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Results;

public sealed class RequestAccountingTests
{
    [Theory]
    [InlineData(100, 100, 0, true)]
    [InlineData(100, 99, 0, false)]
    [InlineData(100, 101, 0, false)]
    [InlineData(100, 100, 5, true)]
    [InlineData(100, 105, 5, true)]
    [InlineData(100, 106, 5, false)]
    [InlineData(100, 99, 5, false)]
    public void AddsUp_EverySuccessLoggedAndNoMoreThanTheFailuresBesides(long succeeded, long logged, long failed, bool addsUp) =>
        Assert.Equal(addsUp, new RequestAccounting("l7", succeeded, logged, failed).AddsUp);
}
