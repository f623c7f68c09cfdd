// compare drives the Linux network lab; the tests that run it, and the load tests themselves, are Linux-only too.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
