using IlgpuVae.Kernels.Conformance;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.Check;

/// <summary>
/// The device check's rows of the latent-hierarchy and GAN ops (Gaussian KL, precision-weighted merge and
/// its backward, logistic loss): present and green on a correct device, and red exactly where one of
/// these ops is broken.
/// </summary>
[TestClass]
public sealed class DeviceCheckLatentOpsTests
{
    private const ulong Seed = 20240611;

    private static readonly string[] Rows =
    [
        "gaussian kl", "gaussian kl extreme logvars", "precision merge", "precision merge backward",
        "logistic loss target 1", "logistic loss target 0", "logistic loss target 0 scale -1", "logistic loss target 0.9 scale 0.5",
    ];

    [TestMethod]
    public void EveryLatentOpRowIsPresentAndPassesOnTheCpu()
    {
        using var device = new CpuAccelerator();
        var results = DeviceCheck.Run(device, Seed);
        string table = DeviceCheck.FormatTable(results);
        foreach (string row in Rows)
        {
            var result = results.SingleOrDefault(r => r.Check == row);
            Assert.IsNotNull(result, $"no check '{row}'\n{table}");
            Assert.IsTrue(result.Passed && result.MaxError <= result.Tolerance, $"{row}\n{table}");
        }
    }

    [TestMethod]
    [DataRow(InjectedFault.KlGradient, "gaussian kl")]
    [DataRow(InjectedFault.MergeGradient, "precision merge backward")]
    [DataRow(InjectedFault.LogisticGradient, "logistic loss")]
    public void ABrokenLatentOpFailsExactlyItsOwnChecks(InjectedFault fault, string failingPrefix)
    {
        using var device = new FaultInjectingAccelerator(fault);
        var results = DeviceCheck.Run(device, Seed);
        bool Broken(DeviceCheckResult r) => r.Check.StartsWith(failingPrefix, StringComparison.Ordinal);
        string table = DeviceCheck.FormatTable(results);
        Assert.IsTrue(results.Any(Broken), table);
        foreach (var result in results)
            Assert.AreEqual(!Broken(result), result.Passed, $"{result.Check}\n{table}");
    }
}
