using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels.Conformance;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae check`: the conformance checks of a device against the CPU reference.</summary>
public sealed class CheckCommand : Command
{
    public override string Name => "check";
    public override string Summary => "check every op of a device against the CPU reference (exit 1 if any fails)";

    public override string Description =>
        "Runs every op of the accelerator contract on the device with fresh random inputs and compares\n" +
        "it with the managed CPU accelerator, plus the Philox known-answer vectors; prints a table.\n" +
        "What to run on a new node before training there. Exit code 1 when any check fails.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        SharedOptions.DeviceOption(),
        new("--seed", "N", "seed of the random inputs", "1"),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        ulong seed = o.ULong("--seed", 1);
        using var accelerator = SharedOptions.OpenDevice(o);
        context.Out.WriteLine($"device {accelerator.Specifier}: {accelerator.Name}");
        var results = DeviceCheck.Run(accelerator, seed);
        context.Out.Write(DeviceCheck.FormatTable(results));
        return results.All(r => r.Passed) ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
