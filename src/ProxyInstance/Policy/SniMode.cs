namespace EgressLab.ProxyInstance.Policy;

/// <summary>Whether a tunnel's TLS SNI must name the host the client sent in <c>CONNECT</c>.</summary>
internal enum SniMode
{
    /// <summary>The ClientHello must carry an SNI equal to the CONNECT host.</summary>
    Require,

    /// <summary>An SNI, when present, must equal the CONNECT host; a ClientHello without one is let through.</summary>
    AllowMissing,

    /// <summary>SNI is not checked.</summary>
    Off,
}
