using System.Globalization;

namespace Shmap.Stress;

/// <summary>A mistake on the command line: the message says which option and what it wants.</summary>
internal sealed class OptionException(string message) : Exception(message);

/// <summary>
/// <c>--name value</c> and <c>--flag</c> options of one verb. Every option read is marked used, and
/// <see cref="ThrowOnUnused"/> rejects the rest, so a misspelt option is an error, not a default.
/// </summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private Options()
    {
    }

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var options = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new OptionException($"Unexpected argument '{arg}': options are --name value or --flag.");
            }

            string name = arg[2..];
            string? value = null;
            int equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }

            options._values[name] = value;
        }

        return options;
    }

    public string String(string name, string fallback) => Raw(name) ?? fallback;

    public string? OptionalString(string name) => Raw(name);

    public int Int(string name, int fallback) => (int)Long(name, fallback);

    public long Long(string name, long fallback)
    {
        string? raw = Raw(name);
        if (raw is null)
        {
            return fallback;
        }

        return long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new OptionException($"--{name} wants an integer, not '{raw}'.");
    }

    public double Double(string name, double fallback)
    {
        string? raw = Raw(name);
        if (raw is null)
        {
            return fallback;
        }

        return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new OptionException($"--{name} wants a number, not '{raw}'.");
    }

    public bool Flag(string name)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out string? raw))
        {
            return false;
        }

        return raw is null || raw is "true" or "1" || (raw is "false" or "0" ? false : throw new OptionException($"--{name} is a flag; give no value or true/false."));
    }

    /// <summary>Rejects options no code asked for.</summary>
    public void ThrowOnUnused()
    {
        foreach (string name in _values.Keys)
        {
            if (!_used.Contains(name))
            {
                throw new OptionException($"Unknown option --{name} for this verb.");
            }
        }
    }

    private string? Raw(string name)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out string? value))
        {
            return null;
        }

        return value ?? throw new OptionException($"--{name} wants a value.");
    }
}
