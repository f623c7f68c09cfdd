using System.Globalization;
using System.Text;
using EgressLab.LoadTests.Cost;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Reports;

/// <summary>
/// The three layers drawn as one inline SVG: the VPC with its public and private subnets, each subnet's route table
/// and default route, the Internet Gateway, the NAT instance (and the NAT gateway when an <c>l4-natgw</c> path was
/// measured), the proxy fleet behind its load balancer, and one coloured line per measured path through what it
/// crosses. A fixed layout: the lab's topology has this shape whatever its addresses.
/// </summary>
internal static class TopologyDiagram
{
    public const string Title = "What each path crosses";

    private const double Width = 960;
    private const double VpcBottom = 430;
    private const double LegendRow = 22;

    // Okabe–Ito, as the charts use, one colour per design so a path keeps its colour across reports.
    private static readonly Dictionary<EgressDesign, string> Colours = new()
    {
        [EgressDesign.InternetGateway] = "#0072B2",
        [EgressDesign.NatInstance] = "#D55E00",
        [EgressDesign.NatGateway] = "#CC79A7",
        [EgressDesign.ProxyFleet] = "#009E73",
    };

    private static readonly Dictionary<EgressDesign, (string Crosses, string Points)> Routes = new()
    {
        [EgressDesign.InternetGateway] = ("public-1's own public address → public route table → IGW (1:1 NAT) → internet", "580,95 850,95"),
        [EgressDesign.NatInstance] = ("private route table → NAT instance (address and port translation) → IGW → internet", "170,112 400,112 400,182 440,182 600,182 850,182"),
        [EgressDesign.NatGateway] = ("private route table → NAT gateway (managed) → IGW → internet", "170,130 385,130 385,272 440,272 600,272 850,272"),
        [EgressDesign.ProxyFleet] = ("NLB → proxy fleet (new TCP connection, allowlist by name) → NAT instance → IGW → internet", "110,140 110,200 210,200 270,200 270,250 270,300 395,300 395,204 440,204 600,204 850,204"),
    };

    public static string Render(IReadOnlyList<EgressPath> paths)
    {
        // One route per design measured, labelled with the first path of that design (l7 stands for l7-squid too).
        var drawn = EgressDesigns.All
            .Select(d => (Design: d, Paths: paths.Where(p => EgressDesigns.Of(p) == d).Select(p => p.Id).ToList()))
            .Where(d => d.Paths.Count > 0)
            .ToList();
        var hasGateway = drawn.Any(d => d.Design == EgressDesign.NatGateway);
        var height = VpcBottom + 24 + (drawn.Count * LegendRow) + 8;

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"{SvgChart.Namespace}\" class=\"topology\" viewBox=\"0 0 {N(Width)} {N(height)}\" width=\"{N(Width)}\" height=\"{N(height)}\" role=\"img\" font-family=\"system-ui, sans-serif\" font-size=\"13\">\n");
        svg.Append($"<title>{E(Title)}</title>\n");

        Box(svg, "vpc", 10, 10, 770, VpcBottom - 10, "#fafafa", "#555555", "VPC 10.10.0.0/16", dashed: false);
        Box(svg, "private-subnet", 30, 40, 340, 380, "#f1f5fb", "#7a8ca8", "private subnet 10.10.2.0/24", dashed: true);
        Box(svg, "public-subnet", 410, 40, 340, 380, "#f3faf3", "#7aa87a", "public subnet 10.10.1.0/24", dashed: true);
        Box(svg, "internet", 850, 40, 100, 360, "#fff8ec", "#b08a4a", "internet", dashed: false);

        // Routes under the devices, so a line reads as passing through what it crosses.
        foreach (var (design, ids) in drawn)
        {
            var points = Routes[design].Points;
            var end = points.Split(' ')[^1].Split(',');
            svg.Append($"<g class=\"route\" data-path=\"{E(ids[0])}\"><polyline points=\"{points}\" fill=\"none\" stroke=\"{Colours[design]}\" stroke-width=\"4\" stroke-linejoin=\"round\"/>");
            svg.Append($"<circle cx=\"{end[0]}\" cy=\"{end[1]}\" r=\"5\" fill=\"{Colours[design]}\"/></g>\n");
        }

        Device(svg, "private-1", 50, 90, 120, 50, "private-1", "workload (L4, L7)");
        Device(svg, "nlb", 210, 180, 120, 40, "NLB (internal)", "checks /readyz");
        Device(svg, "proxy", 210, 250, 120, 60, "proxy fleet", ":3128, allowlist");
        Device(svg, "public-1", 440, 70, 140, 50, "public-1 (EIP)", "workload (L3)");
        Device(svg, "nat-instance", 440, 160, 160, 60, "NAT instance (EIP)", "MASQUERADE");
        if (hasGateway)
        {
            Device(svg, "nat-gateway", 440, 250, 160, 50, "NAT gateway (EIP)", "managed, no security group");
        }

        RouteTable(svg, "private-route-table", 40, 335, 320,
            hasGateway ? ["private route table", "0.0.0.0/0 → NAT instance", "(l4-natgw: 0.0.0.0/0 → NAT gateway)"] : ["private route table", "0.0.0.0/0 → NAT instance"]);
        RouteTable(svg, "public-route-table", 420, 335, 320, ["public route table", "0.0.0.0/0 → IGW"]);

        Device(svg, "igw", 770, 70, 60, 270, "IGW", "");
        svg.Append("<text x=\"900\" y=\"320\" text-anchor=\"middle\" fill=\"#555555\">checkip, www</text>\n");

        var legendY = VpcBottom + 24;
        foreach (var (design, ids) in drawn)
        {
            svg.Append($"<g class=\"legend-item\" data-path=\"{E(ids[0])}\"><line x1=\"20\" y1=\"{N(legendY - 4)}\" x2=\"60\" y2=\"{N(legendY - 4)}\" stroke=\"{Colours[design]}\" stroke-width=\"4\"/>");
            svg.Append($"<text x=\"70\" y=\"{N(legendY)}\"><tspan font-weight=\"bold\">{E(string.Join(", ", ids))}</tspan>: {E(Routes[design].Crosses)}</text></g>\n");
            legendY += LegendRow;
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Box(StringBuilder svg, string name, double x, double y, double width, double height, string fill, string stroke, string label, bool dashed)
    {
        var dash = dashed ? " stroke-dasharray=\"6 4\"" : "";
        svg.Append($"<g class=\"area\" data-name=\"{E(name)}\"><rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(height)}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/>");
        svg.Append($"<text x=\"{N(x + 10)}\" y=\"{N(y + 18)}\" font-weight=\"bold\" fill=\"#333333\">{E(label)}</text></g>\n");
    }

    private static void Device(StringBuilder svg, string name, double x, double y, double width, double height, string label, string detail)
    {
        var middle = x + (width / 2);
        svg.Append($"<g class=\"device\" data-name=\"{E(name)}\"><rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(height)}\" rx=\"5\" fill=\"#ffffff\" stroke=\"#333333\"/>");
        svg.Append($"<text x=\"{N(middle)}\" y=\"{N(y + 20)}\" text-anchor=\"middle\" font-weight=\"bold\">{E(label)}</text>");
        if (detail.Length > 0)
        {
            svg.Append($"<text x=\"{N(middle)}\" y=\"{N(y + 37)}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555555\">{E(detail)}</text>");
        }

        svg.Append("</g>\n");
    }

    private static void RouteTable(StringBuilder svg, string name, double x, double y, double width, IReadOnlyList<string> lines)
    {
        svg.Append($"<g class=\"route-table\" data-name=\"{E(name)}\"><rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(14 + (lines.Count * 16))}\" fill=\"#ffffff\" stroke=\"#999999\"/>");
        for (var i = 0; i < lines.Count; i++)
        {
            svg.Append($"<text x=\"{N(x + 8)}\" y=\"{N(y + 18 + (i * 16))}\" font-size=\"12\"{(i == 0 ? " font-weight=\"bold\"" : "")}>{E(lines[i])}</text>");
        }

        svg.Append("</g>\n");
    }

    private static string E(string text) => SvgChart.Escape(text);

    private static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
