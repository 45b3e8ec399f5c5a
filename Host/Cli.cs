using System.Reflection;
using System.Text;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Host.Commands;
using IlgpuVae.Kernels;
using IlgpuVae.Training.Data;

namespace IlgpuVae.Host;

/// <summary>
/// The ilgpu-vae command line: picks the subcommand, parses its options and maps every failure to a
/// documented exit code with one clear message on stderr. Never prompts: it runs the same in a
/// terminal and in a batch job.
/// </summary>
public static class Cli
{
    public static IReadOnlyList<Command> Commands { get; } =
    [
        new TrainCommand(), new SampleCommand(), new ReconstructCommand(), new EvaluateCommand(), new DevicesCommand(), new CheckCommand(),
        new DenoiseCommand(), new GradvarCommand(), new JacobianCommand(), new BenchCommand(),
        new EncodeCommand(), new DecodeCommand(), new InterpolateCommand(), new ManifoldCommand(), new TraverseCommand(),
    ];

    public static int Run(IReadOnlyList<string> args, CommandContext context)
    {
        if (args.Count == 0)
        {
            context.Error.Write(MainHelp());
            return ExitCodes.Usage;
        }
        string first = args[0];
        if (first is "--help" or "-h" or "help")
        {
            if (first == "help" && args.Count > 1) return Run([args[1], "--help"], context);
            context.Out.Write(MainHelp());
            return ExitCodes.Ok;
        }
        if (first == "--version")
        {
            context.Out.WriteLine($"ilgpu-vae {Version}");
            return ExitCodes.Ok;
        }
        var command = Commands.FirstOrDefault(c => c.Name == first);
        if (command is null)
        {
            context.Error.WriteLine($"ilgpu-vae: unknown command '{first}' (commands: {string.Join(", ", Commands.Select(c => c.Name))}; see 'ilgpu-vae --help')");
            return ExitCodes.Usage;
        }
        var rest = args.Skip(1).ToArray();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            context.Out.Write(command.Help());
            return ExitCodes.Ok;
        }

        try
        {
            var options = ParsedOptions.Parse(command.Name, command.Options, rest);
            return command.Run(options, context);
        }
        catch (UsageException e)
        {
            context.Error.WriteLine($"ilgpu-vae {command.Name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (DataSetException e)
        {
            context.Error.WriteLine($"ilgpu-vae {command.Name}: data error: {e.Message}");
            return ExitCodes.DataError;
        }
        catch (ModelFileException e)
        {
            context.Error.WriteLine($"ilgpu-vae {command.Name}: model error: {e.Message}");
            return ExitCodes.DataError;
        }
        catch (DeviceUnavailableException e)
        {
            context.Error.WriteLine($"ilgpu-vae {command.Name}: device error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            context.Error.WriteLine($"ilgpu-vae {command.Name}: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            string what = context.Model?.NotEnoughMemory() ?? "not enough memory";
            context.Error.WriteLine($"ilgpu-vae {command.Name}: error: {what}; use a smaller model or a machine with more memory");
            if (Environment.GetEnvironmentVariable("IVAE_DEBUG") == "1") context.Error.WriteLine(e);
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            context.Error.WriteLine($"ilgpu-vae {command.Name}: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("IVAE_DEBUG") == "1") context.Error.WriteLine(e);
            return ExitCodes.Failure;
        }
    }

    // Parallel loops and type initialisers wrap the exception of the thread that failed.
    private static bool IsOutOfMemory(Exception e) => e switch
    {
        OutOfMemoryException => true,
        AggregateException a => a.InnerExceptions.Any(IsOutOfMemory),
        _ => e.InnerException is { } inner && IsOutOfMemory(inner),
    };

    public static string Version =>
        typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static string MainHelp()
    {
        var text = new StringBuilder();
        text.Append("usage: ilgpu-vae <command> [options]\n\n");
        text.Append("A variational autoencoder trainer whose hot paths run on its own kernels, all written in C#:\n");
        text.Append("  cpu          managed SIMD on all cores, the reference and the default\n");
        text.Append("  cuda[:N]     NVIDIA GPUs, through ILGPU (needs only the driver)\n");
        text.Append("  opencl[:N]   OpenCL devices, through ILGPU (OpenCL 2.0+, or 3.0 with generic address space)\n");
        text.Append("  ilgpu-cpu    ILGPU's CPU accelerator: the GPU kernels on OS threads, slow by design, for tests\n");
        text.Append("               and kernel debugging\n");
        text.Append("Trains on IDX data (Fashion-MNIST by default). 'ilgpu-vae devices' lists what this machine has.\n\n");
        text.Append("commands:\n");
        int width = Commands.Max(c => c.Name.Length) + 2;
        foreach (var c in Commands) text.Append($"  {c.Name.PadRight(width)}{c.Summary}\n");
        text.Append($"  {"help".PadRight(width)}show this help, or 'help <command>' for a command's options\n\n");
        text.Append("Run 'ilgpu-vae <command> --help' for the options of a command.\n\n");
        text.Append("examples:\n");
        text.Append("  ilgpu-vae train --epochs 10                       train the default 784-400-20 VAE on the CPU\n");
        text.Append("  ilgpu-vae train --device cuda --hidden 512,256    a deeper model on the first CUDA GPU\n");
        text.Append("  ilgpu-vae sample --model runs/X/model.safetensors --count 64 --out samples.png\n\n");
        text.Append(ExitCodes.Describe());
        return text.ToString();
    }
}
