using System.Text.Json.Nodes;
using EgressLab.Provisioner.Topology;
using static EgressLab.Provisioner.CloudFormation.Intrinsics;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>The managed NAT gateways: each an <c>AWS::EC2::NatGateway</c> with its own Elastic IP, in its public subnet.</summary>
internal sealed partial class TemplateRenderer
{
    private static IEnumerable<string> NatGatewayPreconditions(TopologyModel model) =>
        model.NatGateways.Where(_ => model.InternetGateway is null)
            .Select(g => $"NAT gateway '{g.Name}' needs an Internet Gateway to send its traffic to; add internetGateway or remove the NAT gateway");

    /// <summary>
    /// A public NAT gateway and its Elastic IP. The private address is the topology's, so the lab and the stack agree
    /// on it; AWS would pick one if it were left out. It has no security group and no instance to log in to: AWS runs it.
    /// </summary>
    private void AddNatGateways()
    {
        foreach (var gateway in _model.NatGateways)
        {
            var owner = $"NAT gateway '{gateway.Name}'";
            var id = _ids.For(owner, NatGatewayId(gateway.Name));
            var eipId = _ids.For(owner, gateway.Name, "NatGatewayEip");

            // An Elastic IP for a VPC needs the Internet Gateway attached first; so does the NAT gateway that uses it.
            _resources[eipId] = Resource("AWS::EC2::EIP", new JsonObject { ["Domain"] = "vpc", ["Tags"] = Tags(gateway.Name) }, _gatewayAttachment);
            _resources[id] = Resource("AWS::EC2::NatGateway", new JsonObject
            {
                ["ConnectivityType"] = "public",
                ["AllocationId"] = GetAtt(eipId, "AllocationId"),
                ["SubnetId"] = Ref(_subnetIds[gateway.Subnet]),
                ["PrivateIpAddress"] = gateway.PrivateIp.ToString(),
                ["Tags"] = Tags(gateway.Name, "nat-gateway"),
            });
            _outputs[eipId] = Output(Ref(eipId), $"{gateway.Name}: the NAT gateway's Elastic IP, the address the internet sees for every host routed through it.");
            _outputs[id + "Id"] = Output(Ref(id), $"{gateway.Name}: NAT gateway id. It has no instance to log in to; its metrics (ErrorPortAllocation, IdleTimeoutCount) are in CloudWatch under AWS/NATGateway.");
        }
    }

    private static string NatGatewayId(string gateway) => LogicalIds.Pascal(gateway) + "NatGateway";
}
