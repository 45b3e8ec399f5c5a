using ILGPU.Runtime.Cuda;
using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// Every ILGPU kernel compiled to PTX for Volta, Ampere and Hopper and assembled by ptxas: no error and
/// no register spill, with the registers and shared memory of each kernel in the test output. Needs no
/// GPU; a missing ptxas is Inconclusive, or a failure in CI (the setup script extracts it).
/// </summary>
[TestClass]
public sealed class IlgpuPtxTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(70)]
    [DataRow(80)]
    [DataRow(90)]
    public void EveryKernelCompilesToPtxAndAssemblesWithoutSpills(int sm)
    {
        string? ptxas = IlgpuPtxCompiler.FindPtxas();
        if (ptxas is null)
        {
            string message = $"ptxas not found (IVAE_PTXAS, or {IlgpuPtxCompiler.DefaultPtxas})";
            if (KernelConformance.IsCi) Assert.Fail(message);
            Assert.Inconclusive(message);
        }
        var architecture = sm switch { 70 => CudaArchitecture.SM_70, 80 => CudaArchitecture.SM_80, _ => CudaArchitecture.SM_90 };
        string directory = Directory.CreateTempSubdirectory("ivae-ptx-").FullName;
        try
        {
            var kernels = IlgpuPtxCompiler.CompileAll(architecture);
            Assert.HasCount(IlgpuKernelCatalog.All.Count, kernels);
            TestContext.WriteLine($"sm_{sm}: kernel | registers | shared bytes | stack bytes | spill stores | spill loads");
            var spilled = new List<string>();
            foreach (var (kernel, ptx) in kernels)
            {
                StringAssert.Contains(ptx, ".version 7.8", $"{kernel.Name}: not PTX ISA 7.8");
                var report = IlgpuPtxCompiler.Assemble(ptxas, kernel.Name, ptx, $"sm_{sm}", directory);
                TestContext.WriteLine($"{kernel.Name} | {report.Registers} | {report.SharedBytes} | {report.StackBytes} | {report.SpillStores} | {report.SpillLoads}");
                if (report.SpillStores != 0 || report.SpillLoads != 0) spilled.Add($"{kernel.Name}:\n{report.Log}");
            }
            Assert.IsEmpty(spilled, "register spills:\n" + string.Join("\n", spilled));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
