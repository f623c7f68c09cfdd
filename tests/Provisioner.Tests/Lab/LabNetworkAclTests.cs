namespace EgressLab.Provisioner.Tests.Lab;

/// <summary>Network ACLs in the running lab: stateless, per subnet, first rule by number decides, else deny.</summary>
[Collection(LabTestGroup.Name)]
public sealed class LabNetworkAclTests
{
    [Fact]
    public async Task NetworkAcl_OnThePrivateSubnet_AppliesInRuleOrder_AtTheSubnetEdgeOnly()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var topology = Path.Combine(Path.GetTempPath(), $"acl-{Guid.NewGuid():N}.yaml");
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "topologies", "default.yaml"))
            .Replace("    routeTable: private\n", "    routeTable: private\n    networkAcl: private-acl\n", StringComparison.Ordinal)
            + """

            networkAcls:
              - name: private-acl
                inbound:
                  - { number: 200, protocol: all, source: 0.0.0.0/0, action: allow }
                  - { number: 100, protocol: icmp, source: 10.10.1.10/32, action: deny }
                outbound:
                  - { number: 100, protocol: icmp, destination: 10.10.1.100/32, action: deny }
                  - { number: 110, protocol: all, destination: 0.0.0.0/0, action: allow }
            """;
        File.WriteAllText(topology, text);
        var lab = new LabRunner();
        try
        {
            var up = await lab.RunAsync("lab", "up", "--topology", topology);
            Assert.True(up.ExitCode == 0, up.Output);

            // Inbound rule 100 (deny public-1) comes before rule 200 (allow all), whatever their order in the file.
            Assert.NotEqual(0, (await Ping(lab, "public-1", "10.10.2.101")).ExitCode);
            // Stateless: nat's echo request gets in (inbound 200), but the reply leaving the subnet hits outbound 100.
            Assert.NotEqual(0, (await Ping(lab, "nat", "10.10.2.101")).ExitCode);
            // Traffic within the subnet never crosses the subnet's edge, so the ACL does not see it.
            Assert.Equal(0, (await Ping(lab, "private-2", "10.10.2.101")).ExitCode);
            // The public subnet has the default ACL: public-1 reaches nat.
            Assert.Equal(0, (await Ping(lab, "public-1", "10.10.1.100")).ExitCode);
            // And what the ACL allows crosses it both ways: out by rule 110, the reply in by rule 200.
            Assert.Equal(0, (await lab.RunAsync("lab", "route", "add", "private", "0.0.0.0/0", "--target", "nat")).ExitCode);
            Assert.Equal(0, (await lab.RunAsync("lab", "source-dest-check", "nat", "off")).ExitCode);
            Assert.Equal(0, (await Ping(lab, "private-1", "198.51.100.10")).ExitCode);
        }
        finally
        {
            var down = await lab.RunAsync("lab", "down");
            Assert.True(down.ExitCode == 0, down.Output);
            File.Delete(topology);
        }

        Assert.Empty(lab.Leftovers());
    }

    private static Task<(int ExitCode, string Output)> Ping(LabRunner lab, string from, string to) =>
        lab.RunAsync("lab", "exec", from, "--", "ping", "-c", "1", "-W", "1", to);
}
