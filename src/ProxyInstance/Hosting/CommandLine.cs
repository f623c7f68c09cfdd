namespace EgressLab.ProxyInstance.Hosting;

internal enum CommandKind
{
    Run,
    CheckConfig,
    Help,
    Error,
}

/// <summary>The proxy's command line: <c>[--config FILE]</c>, <c>--check-config FILE</c>, <c>--help</c>.</summary>
internal sealed record CommandLine(CommandKind Kind, string? ConfigPath, string? Error)
{
    public const string Usage = """
        Usage: ProxyInstance [--config FILE]
               ProxyInstance --check-config FILE
               ProxyInstance --help

          (no option)          run on the embedded default configuration (listens on 0.0.0.0:3128)
          --config FILE        run on FILE, a JSON file with a "Proxy" section; it is reloaded when it changes
          --check-config FILE  validate FILE, print every problem with its JSON path, exit 0 (valid) or 1
          --help               show this text

        Environment variables named Proxy__<Section>__<Setting> override the file, e.g. Proxy__Policy__DefaultAction=Allow.
        """;

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? config = null;
        string? check = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--help" or "-h":
                    return new CommandLine(CommandKind.Help, null, null);
                case "--config" or "-c" or "--check-config":
                    if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        return new CommandLine(CommandKind.Error, null, $"{arg} needs a file name, as in: {arg} /etc/egress-proxy/proxy.json");
                    }

                    if ((arg == "--check-config" ? check : config) is not null)
                    {
                        return new CommandLine(CommandKind.Error, null, $"{arg} is given twice; give it once.");
                    }

                    if (arg == "--check-config")
                    {
                        check = args[++i];
                    }
                    else
                    {
                        config = args[++i];
                    }

                    break;
                default:
                    return new CommandLine(CommandKind.Error, null, $"unknown argument '{arg}'.");
            }
        }

        if (check is not null && config is not null)
        {
            return new CommandLine(CommandKind.Error, null, "--check-config and --config cannot be combined: --check-config FILE validates FILE without starting the proxy.");
        }

        return check is not null
            ? new CommandLine(CommandKind.CheckConfig, check, null)
            : new CommandLine(CommandKind.Run, config, null);
    }
}
