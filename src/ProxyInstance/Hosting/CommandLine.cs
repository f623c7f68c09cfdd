using EgressLab.ProxyInstance.Allowlist;

namespace EgressLab.ProxyInstance.Hosting;

internal enum CommandKind
{
    Run,
    CheckConfig,
    Help,
    Allowlist,
    Error,
}

/// <summary>
/// The proxy's command line: <c>[--config FILE]</c>, <c>--check-config FILE</c>, <c>--help</c>, and the
/// <c>allowlist</c> subcommands (<see cref="AllowlistArguments"/>).
/// </summary>
/// <param name="Kind">What to do.</param>
/// <param name="ConfigPath">The configuration file to run on or check.</param>
/// <param name="Error">What is wrong with the arguments, for <see cref="CommandKind.Error"/>.</param>
/// <param name="Allowlist">The allowlist subcommand's arguments, for <see cref="CommandKind.Allowlist"/>.</param>
/// <param name="HelpText">The usage text that goes with an error: the allowlist's for its own subcommands.</param>
internal sealed record CommandLine(CommandKind Kind, string? ConfigPath, string? Error, AllowlistArguments? Allowlist = null, string HelpText = CommandLine.Usage)
{
    public const string Usage = """
        Usage: ProxyInstance [--config FILE]
               ProxyInstance --check-config FILE
               ProxyInstance allowlist suggest|diff ...
               ProxyInstance --help

          (no option)          run on the embedded default configuration (listens on 0.0.0.0:3128)
          --config FILE        run on FILE, a JSON file with a "Proxy" section; it is reloaded when it changes
          --check-config FILE  validate FILE, print every problem with its JSON path, exit 0 (valid) or 1
          allowlist suggest    learn Allow rules from access logs; allowlist diff: what a candidate config would deny
                               of the logged traffic (see: ProxyInstance allowlist --help)
          --help               show this text

        Environment variables named Proxy__<Section>__<Setting> override the file, e.g. Proxy__Policy__DefaultAction=Allow.
        """;

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count > 0 && args[0] == "allowlist")
        {
            return AllowlistArguments.TryParse([.. args.Skip(1)], out var allowlist, out var allowlistError)
                ? new CommandLine(CommandKind.Allowlist, null, null, allowlist)
                : new CommandLine(CommandKind.Error, null, allowlistError, HelpText: AllowlistArguments.Usage);
        }

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
