using System.Diagnostics;
using System.Reflection;

namespace EgressLab.LoadTests.Bench;

/// <summary>Whether code was compiled for the JIT optimiser, so a figure from a Debug build is never reported as the product's.</summary>
internal static class OptimizedBuild
{
    /// <summary>False for a Debug build, whose <see cref="DebuggableAttribute"/> disables the optimiser.</summary>
    public static bool Of(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };
    }
}
