namespace EgressLab.LoadTests.Bench;

/// <summary>Summary statistics of a benchmark's samples, each the time per operation of one measured iteration.</summary>
/// <param name="Count">Samples.</param>
/// <param name="Mean">Arithmetic mean.</param>
/// <param name="Median">Middle sample, or the mean of the middle two for an even count.</param>
/// <param name="StandardDeviation">Sample standard deviation (divided by n − 1).</param>
/// <param name="Error">
/// Half the width of the <see cref="ConfidenceLevel"/> confidence interval of the mean: Student's t for n − 1 degrees
/// of freedom times the standard error, which is what BenchmarkDotNet reports as "Error".
/// </param>
/// <param name="Min">Smallest sample.</param>
/// <param name="Max">Largest sample.</param>
/// <remarks>
/// No outliers are removed: on a shared machine they are part of what was measured, and <see cref="Median"/> is the
/// figure that shrugs them off.
/// </remarks>
internal readonly record struct MicroBenchmarkStatistics(
    int Count, double Mean, double Median, double StandardDeviation, double Error, double Min, double Max)
{
    /// <summary>The confidence level of <see cref="Error"/>, BenchmarkDotNet's default.</summary>
    public const double ConfidenceLevel = 0.999;

    /// <summary>Computes the statistics of <paramref name="samples"/>, which must be at least two finite values.</summary>
    public static MicroBenchmarkStatistics Compute(ReadOnlySpan<double> samples)
    {
        if (samples.Length < 2)
        {
            throw new ArgumentException("A standard deviation and a confidence interval need at least two samples.", nameof(samples));
        }

        var sorted = samples.ToArray();
        Array.Sort(sorted);
        // Sorting puts NaN first and infinities at the ends, so the ends show any sample that is not finite.
        if (!double.IsFinite(sorted[0]) || !double.IsFinite(sorted[^1]))
        {
            throw new ArgumentException("Every sample must be a finite number.", nameof(samples));
        }

        var n = sorted.Length;
        var sum = 0.0;
        foreach (var sample in sorted)
        {
            sum += sample;
        }

        var mean = sum / n;
        var squares = 0.0;
        foreach (var sample in sorted)
        {
            squares += (sample - mean) * (sample - mean);
        }

        var standardDeviation = Math.Sqrt(squares / (n - 1));
        var median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        var error = TwoSidedCriticalValue(ConfidenceLevel, n - 1) * standardDeviation / Math.Sqrt(n);
        return new MicroBenchmarkStatistics(n, mean, median, standardDeviation, error, sorted[0], sorted[^1]);
    }

    /// <summary>
    /// The t such that a Student's t variable with <paramref name="degreesOfFreedom"/> lies in [−t, t] with probability
    /// <paramref name="confidence"/>: 8.610 for 99.9% and 4 degrees of freedom, 4.140 for 14.
    /// </summary>
    /// <remarks>
    /// Found by bisection on the angle θ = atan(t / √ν) of Abramowitz and Stegun 26.7.3, whose closed form for the
    /// central probability holds for whole degrees of freedom and needs no gamma function. The probability rises
    /// with θ from 0 at θ = 0 to 1 at θ = π/2, so the bisection always converges.
    /// </remarks>
    public static double TwoSidedCriticalValue(double confidence, int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (!(confidence is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "The confidence must lie strictly between 0 and 1.");
        }

        var low = 0.0;
        var high = Math.PI / 2;
        for (var i = 0; i < 100; i++)
        {
            var middle = (low + high) / 2;
            if (CentralProbability(middle, degreesOfFreedom) < confidence)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return Math.Sqrt(degreesOfFreedom) * Math.Tan((low + high) / 2);
    }

    /// <summary>P(|T| ≤ √ν tan θ) for Student's t with ν degrees of freedom (Abramowitz and Stegun 26.7.3).</summary>
    private static double CentralProbability(double theta, int degreesOfFreedom)
    {
        var (sin, cos) = Math.SinCos(theta);
        var cosSquared = cos * cos;
        if (degreesOfFreedom % 2 == 0)
        {
            // sin θ [1 + (1/2) cos²θ + (1·3)/(2·4) cos⁴θ + ... up to cos^(ν−2) θ]
            var term = 1.0;
            var sum = 1.0;
            for (var k = 2; k <= degreesOfFreedom - 2; k += 2)
            {
                term *= (k - 1.0) / k * cosSquared;
                sum += term;
            }

            return sin * sum;
        }

        // (2/π) {θ + sin θ [cos θ + (2/3) cos³θ + ... up to cos^(ν−2) θ]}, and 2θ/π alone for ν = 1
        var series = 0.0;
        if (degreesOfFreedom > 1)
        {
            var term = cos;
            series = cos;
            for (var k = 3; k <= degreesOfFreedom - 2; k += 2)
            {
                term *= (k - 1.0) / k * cosSquared;
                series += term;
            }
        }

        return 2 / Math.PI * (theta + (sin * series));
    }
}
