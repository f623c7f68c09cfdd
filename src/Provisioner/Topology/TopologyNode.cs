namespace EgressLab.Provisioner.Topology;

/// <summary>
/// A parsed document, the same shape for YAML and JSON, keeping the line of every value so that the mapper and the
/// validator can point at it. Mapping it to the model by hand, rather than deserializing, is what lets every
/// problem be reported at once and by name.
/// </summary>
internal abstract record TopologyNode(int Line);

internal enum ScalarKind
{
    String,
    Number,
    Boolean,
    Null,
}

/// <param name="Text">The scalar as written, without quotes; for <see cref="ScalarKind.Null"/> it is empty.</param>
internal sealed record TopologyScalar(int Line, ScalarKind Kind, string Text) : TopologyNode(Line);

/// <param name="Line">The line of the field's name.</param>
internal sealed record TopologyField(string Name, int Line, TopologyNode Value);

/// <summary>A YAML mapping or JSON object; fields in document order, duplicates kept so they can be reported.</summary>
internal sealed record TopologyMapping(int Line, IReadOnlyList<TopologyField> Fields) : TopologyNode(Line);

internal sealed record TopologySequence(int Line, IReadOnlyList<TopologyNode> Items) : TopologyNode(Line);
