// Network namespaces, nftables and iproute2: the lab exists on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

return EgressLab.Provisioner.Cli.ProvisionerCommand.Run(args);
