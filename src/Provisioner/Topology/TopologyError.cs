namespace EgressLab.Provisioner.Topology;

/// <summary>One problem in a topology file: where it is, what is wrong, and how to fix it.</summary>
/// <param name="Source">The file (or other source) the topology came from.</param>
/// <param name="Line">The 1-based line, or null when the problem has no place in the file.</param>
/// <param name="Item">The thing at fault, e.g. <c>instances[2] 'private-1'.privateIp</c>.</param>
/// <param name="Message">What is wrong, without a final full stop.</param>
/// <param name="Fix">What to do about it, as a sentence.</param>
internal sealed record TopologyError(string Source, int? Line, string Item, string Message, string Fix)
{
    public override string ToString() =>
        Line is { } line
            ? $"{Source}:{line.ToString(System.Globalization.CultureInfo.InvariantCulture)}: {Item}: {Message}. {Fix}"
            : $"{Source}: {Item}: {Message}. {Fix}";
}
