using System.Globalization;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>One problem in a CloudFormation template: which resource and property, what is wrong, how to fix it.</summary>
/// <param name="Resource">The resource's logical id (<c>PrivateRoute</c>), or the template section (<c>Parameters</c>, <c>Outputs</c>, <c>template</c>).</param>
/// <param name="Property">The property path inside it (<c>Properties.SecurityGroupIngress[0].FromPort</c>), or empty for the whole resource.</param>
/// <param name="Message">What is wrong, without a final full stop.</param>
/// <param name="Fix">What to do about it, as a sentence; may be empty when the message says it all.</param>
/// <param name="Line">The 1-based line in the template file, when known.</param>
internal sealed record TemplateFinding(string Resource, string Property, string Message, string Fix = "", int? Line = null)
{
    public override string ToString()
    {
        var where = Property.Length == 0 ? Resource : $"{Resource}.{Property}";
        var at = Line is { } line ? $"line {line.ToString(CultureInfo.InvariantCulture)}: " : "";
        return Fix.Length == 0 ? $"{at}{where}: {Message}" : $"{at}{where}: {Message}. {Fix}";
    }
}
