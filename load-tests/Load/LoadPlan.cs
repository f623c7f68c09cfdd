using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Load;

/// <summary>How load is offered: the model, its rate or users, and the window that is measured.</summary>
internal sealed record LoadPlan
{
    public required LoadModel Model { get; init; }

    /// <summary>Open model: requests per second, sent evenly spaced.</summary>
    public double Rate { get; init; }

    /// <summary>Closed model: users, each sending its next request when the previous one completed. The default is 8.</summary>
    public int Users { get; init; } = 8;

    /// <summary>Open model: requests allowed outstanding at once; a send due beyond that is dropped and counted. The default is 1000.</summary>
    public int MaxInFlight { get; init; } = 1000;

    /// <summary>The measured window, after the warm-up. The default is 20 seconds.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Load offered before the measured window and left out of the results. The default is 5 seconds.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long requests still outstanding at the end may take to finish before they are cancelled and counted as
    /// timeouts. The default is 5 seconds.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests or users: what <c>ScenarioResult.Concurrency</c> reports.</summary>
    public int Concurrency => Model == LoadModel.Open ? MaxInFlight : Users;

    /// <summary>
    /// Open model: a send is late when it starts more than this after its intended time: max(1 ms, 10% of the interval).
    /// </summary>
    public TimeSpan LatenessBound => Model == LoadModel.Open && Rate > 0
        ? TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (long)(TimeSpan.TicksPerSecond / Rate / 10)))
        : TimeSpan.Zero;
}
