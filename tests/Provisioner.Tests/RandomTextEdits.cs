namespace EgressLab.Provisioner.Tests;

/// <summary>Mangles a document with a few random character edits, for the readers' robustness tests.</summary>
internal static class RandomTextEdits
{
    /// <summary>One to three deletions, insertions or replacements, drawing new characters from <paramref name="characters"/>.</summary>
    public static string Apply(Random random, string text, string characters)
    {
        var chars = text.ToList();
        for (var edit = random.Next(1, 4); edit > 0; edit--)
        {
            var at = random.Next(chars.Count);
            var character = characters[random.Next(characters.Length)];
            switch (random.Next(3))
            {
                case 0:
                    chars.RemoveAt(at);
                    break;
                case 1:
                    chars.Insert(at, character);
                    break;
                default:
                    chars[at] = character;
                    break;
            }
        }

        return new string([.. chars]);
    }
}
