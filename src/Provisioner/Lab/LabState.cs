using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>How the NAT instance forwards: for every host, or only for the proxy instance.</summary>
internal enum EgressMode
{
    Nat,
    ProxyOnly,
}

/// <summary>
/// What a lab that is up was built from, kept in its state directory: the topology file's text (so editing the
/// file later does not change a running lab), and the walk-through's changes on top of it: route edits, source/
/// destination check switches, the egress mode and the proxy's policy.
/// </summary>
internal sealed record LabState
{
    public required string TopologySource { get; init; }

    public required string TopologyText { get; init; }

    public required TopologyFormat TopologyFormat { get; init; }

    /// <summary>Route tables as the walk-through left them: table name → routes ("cidr" → target).</summary>
    public Dictionary<string, Dictionary<string, string>> RouteTables { get; init; } = [];

    public Dictionary<string, bool> SourceDestCheck { get; init; } = [];

    public EgressMode Egress { get; init; } = EgressMode.Nat;

    /// <summary>The proxy's <c>Policy</c> section as <c>lab proxy-policy</c> set it (JSON); null for the topology's allowlist.</summary>
    public string? ProxyPolicy { get; init; }

    /// <summary>The NAT failure <c>lab fail nat</c> left the lab in; null while the NAT instance works.</summary>
    public NatFailureState? NatFailure { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static LabState? Read(LabEnvironment environment)
    {
        if (!File.Exists(environment.StateFile))
        {
            return null;
        }

        return JsonSerializer.Deserialize<LabState>(File.ReadAllText(environment.StateFile), Json)
            ?? throw new InvalidDataException($"{environment.StateFile} is empty");
    }

    public void Write(LabEnvironment environment)
    {
        Directory.CreateDirectory(environment.StateDirectory);
        var temporary = environment.StateFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, environment.StateFile, overwrite: true);
    }

    /// <summary>The model the lab runs: the topology file's, with the walk-through's changes applied.</summary>
    public TopologyModel Model()
    {
        var loaded = TopologyLoader.Parse(TopologyText, TopologySource, TopologyFormat);
        if (!loaded.Succeeded)
        {
            throw new InvalidDataException($"the lab's saved topology no longer loads: {string.Join("; ", loaded.Errors)}");
        }

        var model = loaded.Model!;
        foreach (var (name, routes) in RouteTables)
        {
            model = model.WithRouteTable(new RouteTableSpec(name, [.. routes.Select(r => new RouteSpec(IPNetwork.Parse(r.Key), r.Value))]));
        }

        foreach (var (name, on) in SourceDestCheck)
        {
            model = model.WithInstance(model.Instance(name) with { SourceDestCheck = on });
        }

        return model;
    }

    /// <summary>Records a route table's routes as they now are.</summary>
    public LabState WithRoutes(RouteTableSpec table)
    {
        var tables = new Dictionary<string, Dictionary<string, string>>(RouteTables)
        {
            [table.Name] = table.Routes.ToDictionary(r => r.Destination.ToString(), r => r.Target),
        };
        return this with { RouteTables = tables };
    }

    public LabState WithSourceDestCheck(string instance, bool on) =>
        this with { SourceDestCheck = new Dictionary<string, bool>(SourceDestCheck) { [instance] = on } };
}
