using System.Globalization;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae devices`: every device of every backend, or why a backend has none.</summary>
public sealed class DevicesCommand : Command
{
    public override string Name => "devices";
    public override string Summary => "list the devices of every backend (CPU, OpenCL, CUDA) and why any is unavailable";

    public override string Description =>
        "Lists every device of every backend with the specifier that selects it (--device), or the\n" +
        "reason a backend has no devices (no driver, no library), and each device's type: CPU, GPU, or\n" +
        "for OpenCL also accelerator or custom (several when the driver reports several, e.g.\n" +
        "GPU+accelerator). 'auto' picks the first CUDA device, else the first OpenCL device of type GPU,\n" +
        "else the CPU accelerator; an accelerator-only device is used only when named (opencl:N).";

    public override IReadOnlyList<OptionSpec> Options { get; } = [];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        var c = CultureInfo.InvariantCulture;
        foreach (var provider in Devices.Providers)
        {
            IReadOnlyList<DeviceInfo> devices;
            string? reason;
            try { devices = provider.Enumerate(out reason); }
            catch (Exception e) { devices = []; reason = $"enumeration failed: {e.Message}"; }
            context.Out.WriteLine($"{Devices.DisplayName(provider.Kind)}:");
            if (devices.Count == 0)
            {
                context.Out.WriteLine($"  unavailable: {reason ?? "no devices"}");
                continue;
            }
            foreach (var d in devices)
            {
                string memory = d.MemoryBytes > 0 ? $"{(d.MemoryBytes / (1024.0 * 1024 * 1024)).ToString("F1", c)} GiB" : "memory unknown";
                context.Out.WriteLine($"  {d.Specifier,-10} {d.Name} [{d.Platform}] {d.TypeName}, {memory}, " +
                    $"{d.ComputeUnits} compute units{(string.IsNullOrEmpty(d.Details) ? "" : ", " + d.Details)}");
            }
        }
        return ExitCodes.Ok;
    }
}
