// The provisioner is Linux-only (network namespaces, nftables), and so are its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
