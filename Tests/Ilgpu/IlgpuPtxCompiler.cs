using System.Diagnostics;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using IlgpuVae.Kernels.Ilgpu;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>What ptxas reported for one kernel.</summary>
public sealed record PtxasReport(string Kernel, int Registers, int SharedBytes, int StackBytes, int SpillStores, int SpillLoads, string Log);

/// <summary>
/// ILGPU's PTX backend needs no GPU: given a CUDA capability and architecture it compiles a kernel to
/// PTX text, which a standalone ptxas then assembles for that architecture (the check that the driver's
/// JIT will accept it, and what it costs in registers and shared memory).
/// </summary>
public static partial class IlgpuPtxCompiler
{
    public const string DefaultPtxas = "/var/cache/ilgpu-vae/ptxas/usr/bin/ptxas";

    /// <summary>IVAE_PTXAS, else the path the setup script extracts ptxas to; null when neither exists.</summary>
    public static string? FindPtxas()
    {
        string? configured = Environment.GetEnvironmentVariable("IVAE_PTXAS");
        if (!string.IsNullOrEmpty(configured)) return File.Exists(configured) ? configured : null;
        return File.Exists(DefaultPtxas) ? DefaultPtxas : null;
    }

    /// <summary>The PTX of every catalogued kernel for one architecture (ISA 7.8, what ptxas 11.8 reads).</summary>
    public static IReadOnlyList<(IlgpuKernelEntry Kernel, string Ptx)> CompileAll(CudaArchitecture architecture)
    {
        using var context = Context.Create(builder => IlgpuAccelerator.ConfigureContext(builder));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_78, null);
        var result = new List<(IlgpuKernelEntry, string)>();
        foreach (var kernel in IlgpuKernelCatalog.All)
        {
            var entry = kernel.ExplicitlyGrouped
                ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method)
                : EntryPointDescription.FromImplicitlyGroupedKernel(kernel.Method);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization());
            result.Add((kernel, compiled.PTXAssembly));
        }
        return result;
    }

    /// <summary>Assembles one PTX file with `ptxas -arch=sm_XX -v`; throws with ptxas's log when it fails.</summary>
    public static PtxasReport Assemble(string ptxas, string kernel, string ptx, string smArchitecture, string workDirectory)
    {
        string input = Path.Combine(workDirectory, $"{kernel}.{smArchitecture}.ptx");
        string output = Path.ChangeExtension(input, ".cubin");
        File.WriteAllText(input, ptx);
        var start = new ProcessStartInfo(ptxas, ["-arch=" + smArchitecture, "-v", "-o", output, input])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string log = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        log += stderr.Result;
        if (process.ExitCode != 0) throw new InvalidOperationException($"ptxas failed on {kernel} for {smArchitecture} (exit {process.ExitCode}):\n{log}");
        return new PtxasReport(kernel,
            Number(RegistersPattern(), log), Number(SharedPattern(), log), Number(StackPattern(), log),
            Number(SpillStoresPattern(), log), Number(SpillLoadsPattern(), log), log);
    }

    private static int Number(Regex pattern, string log)
    {
        var match = pattern.Match(log);
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"Used (\d+) registers")] private static partial Regex RegistersPattern();
    [GeneratedRegex(@"(\d+) bytes smem")] private static partial Regex SharedPattern();
    [GeneratedRegex(@"(\d+) bytes stack frame")] private static partial Regex StackPattern();
    [GeneratedRegex(@"(\d+) bytes spill stores")] private static partial Regex SpillStoresPattern();
    [GeneratedRegex(@"(\d+) bytes spill loads")] private static partial Regex SpillLoadsPattern();
}
