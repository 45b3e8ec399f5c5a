using System.Globalization;

namespace IlgpuVae.Host.CommandLine;

/// <summary>A command-line mistake: the message names the option, the value and what was expected. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>One option a command accepts: a flag (no value) or an option with a value named ValueName.</summary>
public sealed record OptionSpec(string Name, string? ValueName, string Description, string? Default = null)
{
    public bool IsFlag => ValueName is null;

    public string Synopsis => IsFlag ? Name : $"{Name} {ValueName}";
}

/// <summary>
/// The options given to one command, parsed against its specs: "--name value" or "--name=value" for
/// options, "--name" for flags. Unknown options, missing values, repeated options and stray
/// arguments are rejected; the typed getters reject values of the wrong kind or range. Every error is
/// a <see cref="UsageException"/> whose message names the option.
/// </summary>
public sealed class ParsedOptions
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly string _command;

    private ParsedOptions(string command) => _command = command;

    public static ParsedOptions Parse(string command, IReadOnlyList<OptionSpec> specs, IReadOnlyList<string> args)
    {
        var parsed = new ParsedOptions(command);
        var byName = specs.ToDictionary(s => s.Name, StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new UsageException($"unexpected argument '{arg}' for '{command}': options start with -- (see 'ilgpu-vae {command} --help')");
            string name = arg;
            string? inline = null;
            int equals = arg.IndexOf('=');
            if (equals > 0) { name = arg[..equals]; inline = arg[(equals + 1)..]; }
            if (!byName.TryGetValue(name, out var spec))
                throw new UsageException($"unknown option '{name}' for '{command}'{Suggest(name, specs)} (see 'ilgpu-vae {command} --help')");
            if (parsed._values.ContainsKey(name))
                throw new UsageException($"option '{name}' is given twice");
            if (spec.IsFlag)
            {
                if (inline is not null) throw new UsageException($"option '{name}' is a flag and takes no value (got '{inline}')");
                parsed._values[name] = null;
            }
            else if (inline is not null) parsed._values[name] = inline;
            else if (i + 1 < args.Count && !(args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
                parsed._values[name] = args[++i];
            else throw new UsageException($"option '{name}' needs a value: {spec.Synopsis}");
        }
        return parsed;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public bool Flag(string name) => _values.ContainsKey(name);

    public string? String(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public string String(string name, string fallback) => String(name) ?? fallback;

    public string Required(string name)
        => String(name) is { Length: > 0 } v ? v : throw new UsageException($"'{_command}' needs option '{name}'");

    /// <summary>
    /// A path, or null when the option is absent. An empty or blank value is a usage error here rather
    /// than an ArgumentException deep in the file system calls.
    /// </summary>
    public string? Path(string name, string expected)
    {
        if (String(name) is not { } text) return null;
        if (string.IsNullOrWhiteSpace(text)) throw Bad(name, text, expected);
        return text;
    }

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (String(name) is not { } text) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw Bad(name, text, $"an integer{Range(min, max)}");
        if (v < min || v > max) throw Bad(name, text, $"an integer{Range(min, max)}");
        return v;
    }

    public long? Long(string name, long min = long.MinValue)
    {
        if (String(name) is not { } text) return null;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) || v < min)
            throw Bad(name, text, $"an integer >= {min}");
        return v;
    }

    public ulong ULong(string name, ulong fallback)
    {
        if (String(name) is not { } text) return fallback;
        if (!ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v))
            throw Bad(name, text, "a non-negative integer");
        return v;
    }

    /// <summary>A finite float; positive requires > 0, otherwise >= min.</summary>
    public float Float(string name, float fallback, float min = float.MinValue, bool positive = false)
    {
        if (String(name) is not { } text) return fallback;
        string expected = positive ? "a number > 0" : min > float.MinValue ? $"a number >= {min.ToString(CultureInfo.InvariantCulture)}" : "a number";
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
            throw Bad(name, text, expected);
        if (positive ? !(v > 0) : v < min) throw Bad(name, text, expected);
        return v;
    }

    /// <summary>One of the given choices (case-insensitive).</summary>
    public T Choice<T>(string name, T fallback, IReadOnlyDictionary<string, T> choices)
    {
        if (String(name) is not { } text) return fallback;
        foreach (var (key, value) in choices)
            if (string.Equals(key, text, StringComparison.OrdinalIgnoreCase)) return value;
        throw Bad(name, text, "one of " + string.Join(", ", choices.Keys));
    }

    public static UsageException Bad(string name, string value, string expected)
        => new($"option '{name}': '{value}' is not {expected}");

    private static string Range(int min, int max) => (min, max) switch
    {
        (int.MinValue, int.MaxValue) => "",
        (_, int.MaxValue) => $" >= {min}",
        _ => $" in {min}..{max}",
    };

    private static string Suggest(string name, IReadOnlyList<OptionSpec> specs)
    {
        var close = specs.Select(s => s.Name).Where(n => Distance(n, name) <= 2).ToArray();
        return close.Length > 0 ? $" (did you mean {string.Join(" or ", close)}?)" : "";
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
