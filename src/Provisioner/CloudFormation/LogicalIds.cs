using System.Text;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// CloudFormation logical ids made from topology names: <c>public-1</c> becomes <c>Public1</c>. Logical ids may hold
/// only letters and digits, so two names can collide (<c>a-b</c> and <c>ab</c>); the renderer reports that instead
/// of writing one resource over another.
/// </summary>
internal sealed class LogicalIds
{
    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);

    public List<string> Collisions { get; } = [];

    public static string Pascal(string name)
    {
        var text = new StringBuilder(name.Length);
        var upper = true;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                upper = true;
                continue;
            }

            text.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        return text.ToString();
    }

    /// <summary>The logical id <paramref name="prefix"/> + <paramref name="suffix"/> for <paramref name="owner"/>, noting a collision.</summary>
    public string For(string owner, string prefix, string suffix) => For(owner, Pascal(prefix) + suffix);

    /// <summary>Claims <paramref name="id"/> for <paramref name="owner"/>, noting a collision.</summary>
    public string For(string owner, string id)
    {
        if (_owners.TryGetValue(id, out var existing) && existing != owner)
        {
            Collisions.Add($"{existing} and {owner} both become the logical id '{id}'; rename one of them");
        }

        _owners[id] = owner;
        return id;
    }
}
