namespace EgressLab.ProxyInstance.Targets;

/// <summary>Outcome of <see cref="HostName.Normalize"/>.</summary>
internal enum HostNameStatus
{
    Valid,
    Empty,
    TooLong,
    EmptyLabel,
    LabelTooLong,
    InvalidCharacter,
    HyphenAtLabelEdge,
    InvalidInternationalName,
}
