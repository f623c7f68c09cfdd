using System.Net;

namespace EgressLab.Provisioner.Topology;

/// <summary>
/// The topology as the walk-through leaves it: the seed topology starts where the NAT-instance tutorial starts
/// (private route table with only the local route, the NAT instance's source/destination check on, as at launch),
/// and the lab's console steps take it to the working state. A stack on AWS is deployed in that working state.
/// </summary>
internal static class WalkthroughEndState
{
    private static readonly IPNetwork Anywhere = new(IPAddress.Any, 0);

    /// <summary>
    /// Turns every NAT instance's source/destination check off and, when there is exactly one NAT instance, sends
    /// every route table without a default route to it. Returns the new model and one line per change made.
    /// </summary>
    public static (TopologyModel Model, IReadOnlyList<string> Changes) Apply(TopologyModel model)
    {
        var changes = new List<string>();
        foreach (var nat in model.Instances.Where(i => i.Role == InstanceRole.Nat && i.SourceDestCheck))
        {
            model = model.WithInstance(nat with { SourceDestCheck = false });
            changes.Add($"instance '{nat.Name}': source/destination check off (a NAT instance forwards traffic that is not its own)");
        }

        var nats = model.Instances.Where(i => i.Role == InstanceRole.Nat).ToList();
        if (nats.Count != 1)
        {
            return (model, changes);
        }

        var natSubnetTable = model.Subnet(nats[0].Subnet).RouteTable;
        foreach (var table in model.RouteTables)
        {
            // The NAT instance's own subnet must keep its way out, so its table is never pointed back at the NAT.
            if (table.Name == natSubnetTable || table.Routes.Any(r => r.Destination.PrefixLength == 0))
            {
                continue;
            }

            model = model.WithRouteTable(table with { Routes = [.. table.Routes, new RouteSpec(Anywhere, nats[0].Name)] });
            changes.Add($"route table '{table.Name}': 0.0.0.0/0 -> {nats[0].Name} (the private subnets leave through the NAT instance)");
        }

        return (model, changes);
    }
}
