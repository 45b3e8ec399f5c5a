using System.Text;

namespace IlgpuVae.Host.CommandLine;

/// <summary>The documented exit codes of ilgpu-vae (listed by --help; batch jobs branch on them).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Training, device or any other run-time failure.</summary>
    public const int Failure = 1;
    /// <summary>A command-line mistake: unknown option, bad value, missing argument.</summary>
    public const int Usage = 2;
    /// <summary>The data set or a model file is missing or malformed.</summary>
    public const int DataError = 3;
    /// <summary>Stopped by Ctrl-C (SIGINT), SIGTERM, SIGHUP or SIGUSR1 after writing what the run had.</summary>
    public const int Interrupted = 130;

    public static string Describe() =>
        "exit codes:\n" +
        "  0    success\n" +
        "  1    error while training or on the device (including a failed check)\n" +
        "  2    usage error: unknown option, bad or missing value, a run directory in use by another process\n" +
        "  3    data error: the data set or a model file is missing or malformed\n" +
        "  130  interrupted (Ctrl-C, SIGTERM, SIGHUP or SIGUSR1): training stops after the current step and still writes its outputs\n";
}

/// <summary>Where a command writes, and how it is asked to stop.</summary>
/// <param name="IsTerminal">True when Out is an interactive terminal (progress bar instead of log lines).</param>
public sealed record CommandContext(TextWriter Out, TextWriter Error, CancellationToken Cancellation, bool IsTerminal)
{
    /// <summary>
    /// The model the command works on, once it is known: an out-of-memory failure anywhere after that
    /// is reported with the model's size rather than as a bare exception.
    /// </summary>
    public ModelMemory? Model { get; set; }
}

/// <summary>
/// What a model costs in memory: <paramref name="Parameters"/> floats in each of
/// <paramref name="Buffers"/> flat buffers (training holds parameters, gradients and two Adam moments).
/// </summary>
public sealed record ModelMemory(long Parameters, int Buffers)
{
    public const int TrainingBuffers = 4;

    /// <summary>The parameter buffer and its host copy.</summary>
    public const int InferenceBuffers = 2;

    public double GiB => Parameters * 4.0 * Buffers / (1L << 30);

    public string NotEnoughMemory() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"not enough memory for {Parameters:N0} parameters ({GiB:0.##} GiB in {Buffers} buffers of {Parameters * 4.0 / (1L << 30):0.##} GiB)");
}

/// <summary>One subcommand of ilgpu-vae.</summary>
public abstract class Command
{
    public abstract string Name { get; }

    /// <summary>One line for the command list of `ilgpu-vae --help`.</summary>
    public abstract string Summary { get; }

    /// <summary>Paragraphs printed between the usage line and the options in `ilgpu-vae NAME --help`.</summary>
    public virtual string Description => Summary + ".";

    public abstract IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>Runs with parsed options; returns an exit code. Errors are thrown and mapped by <see cref="Cli"/>.</summary>
    public abstract int Run(ParsedOptions options, CommandContext context);

    public string Help()
    {
        var text = new StringBuilder();
        text.Append($"usage: ilgpu-vae {Name}{(Options.Count > 0 ? " [options]" : "")}\n\n{Description}\n");
        if (Options.Count > 0)
        {
            text.Append("\noptions:\n");
            int width = Math.Max(Options.Max(o => o.Synopsis.Length), "--help".Length) + 2;
            foreach (var o in Options)
                text.Append($"  {o.Synopsis.PadRight(width)}{o.Description}{(o.Default is null ? "" : $" (default: {o.Default})")}\n");
            text.Append($"  {"--help".PadRight(width)}show this help\n");
        }
        text.Append('\n').Append(ExitCodes.Describe());
        return text.ToString();
    }
}
