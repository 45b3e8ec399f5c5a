using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Conformance;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.Check;

/// <summary>The device check behind `ilgpu-vae check`: all green on a correct device, red exactly where one is broken.</summary>
[TestClass]
public sealed class DeviceCheckTests
{
    private const ulong Seed = 20240611;

    [TestMethod]
    public void CpuAgainstCpuPassesEveryCheck()
    {
        using var device = new CpuAccelerator();
        var results = DeviceCheck.Run(device, Seed);
        var failed = results.Where(r => !r.Passed).ToArray();
        Assert.AreEqual(0, failed.Length, DeviceCheck.FormatTable(failed));
        // Every op of the contract is covered.
        foreach (string prefix in new[]
        {
            "philox known answers (host)", "sampling eps vs Philox.Normal", "copy", "gemm NN", "gemm NT", "gemm TN", "gemm TT",
            "activation forward", "activation backward", "bias gradient", "sampling forward", "sampling backward",
            "loss bernoulli", "loss gaussian", "adam", "adamw", "gather", "gather binarized", "reduce sum", "fill",
            "copy columns", "gather one-hot", "corrupt none", "corrupt gaussian", "corrupt salt-pepper", "corrupt mask",
            "corrupt downsample", "score function backward", "score function backward leave-one-out",
            "im2col 5x28x28x1 k4 s2 p1", "im2col 7x14x14x32 k4 s2 p1", "im2col 3x5x7x3 k3 s2 p1", "col2im 5x28x28x1 k4 s2 p1",
            "col2im 7x14x14x32 k4 s2 p1", "col2im 3x5x7x3 k3 s2 p1", "bias activation Relu", "bias activation Sigmoid",
        })
        {
            Assert.IsTrue(results.Any(r => r.Check.StartsWith(prefix, StringComparison.Ordinal)), $"no check '{prefix}'");
        }
        foreach (var activation in Enum.GetValues<Activation>())
        {
            Assert.IsTrue(results.Any(r => r.Check == $"activation forward {activation}"));
            Assert.IsTrue(results.Any(r => r.Check == $"activation backward {activation}"));
            Assert.IsTrue(results.Any(r => r.Check.StartsWith("gemm", StringComparison.Ordinal) && r.Check.EndsWith($"+ bias {activation}", StringComparison.Ordinal)));
        }
        Assert.AreEqual(results.Count, results.Select(r => r.Check).Distinct().Count(), "check names are unique");
        Assert.IsTrue(results.All(r => r.MaxError <= r.Tolerance && !double.IsNaN(r.MaxError)));
    }

    [TestMethod]
    [DataRow(InjectedFault.GemmTransposedA, "gemm TN")]
    [DataRow(InjectedFault.LossGradient, "loss ")]
    [DataRow(InjectedFault.AdamThrows, "adam")]
    [DataRow(InjectedFault.FillPastTheView, "fill")]
    [DataRow(InjectedFault.SampledEps, "sampling eps vs Philox.Normal|sampling forward")]
    [DataRow(InjectedFault.CorruptedInput, "corrupt ")]
    [DataRow(InjectedFault.ScoreGradient, "score function backward")]
    public void ABrokenOpFailsExactlyItsOwnChecks(InjectedFault fault, string failingPrefixes)
    {
        using var device = new FaultInjectingAccelerator(fault);
        var results = DeviceCheck.Run(device, Seed);
        string[] prefixes = failingPrefixes.Split('|');
        bool Broken(DeviceCheckResult r) => prefixes.Any(p => r.Check.StartsWith(p, StringComparison.Ordinal));
        string table = DeviceCheck.FormatTable(results);
        Assert.IsTrue(results.Any(Broken), table);
        foreach (var result in results)
            Assert.AreEqual(!Broken(result), result.Passed, $"{result.Check}\n{table}");
        if (fault == InjectedFault.AdamThrows)
        {
            var adam = results.First(r => r.Check == "adam");
            StringAssert.Contains(adam.Detail, "InvalidOperationException: adam_step: launch failed (injected)");
            Assert.IsTrue(double.IsNaN(adam.MaxError));
        }
        if (fault == InjectedFault.GemmTransposedA)
        {
            // The fault perturbs the middle element of C: element 17 of the 7x5 result.
            var gemm = results.Single(r => r.Check == "gemm TN 7x5x3 alpha 0.75 beta 0.5");
            Assert.IsTrue(gemm.MaxError > gemm.Tolerance);
            StringAssert.StartsWith(gemm.Detail, "worst at [17]: expected ");
        }
        if (fault == InjectedFault.FillPastTheView)
        {
            // The view is [1, 1000) of the operand: the one element too many is element 1000.
            var fill = results.Single(r => r.Check == "fill");
            StringAssert.StartsWith(fill.Detail, "worst at [1000]: expected ");
            StringAssert.EndsWith(fill.Detail, "got -2.5");
        }
    }

    [TestMethod]
    public void MaxErrorIsRelativeAboveTheFloorAndAbsoluteBelowIt()
    {
        Assert.AreEqual(0.0, DeviceCheck.MaxError([1f, 2f, float.NaN], [1f, 2f, float.NaN]).MaxError, "equal values, a NaN both have");
        var (relative, index) = DeviceCheck.MaxError([1f, 1000f], [1f, 1001f]);
        Assert.AreEqual(1e-3, relative, 1e-9);
        Assert.AreEqual(1, index);
        Assert.AreEqual(1e-3, DeviceCheck.MaxError([0.001f], [0.002f]).MaxError, 1e-9, "absolute below 1");
        Assert.AreEqual(1e-6, DeviceCheck.MaxError([0.5f], [0.501f], floor: 1000).MaxError, 1e-9);
        Assert.AreEqual(double.PositiveInfinity, DeviceCheck.MaxError([1f], [float.NaN]).MaxError);
        Assert.AreEqual(double.PositiveInfinity, DeviceCheck.MaxError([1f], [float.PositiveInfinity]).MaxError);
        Assert.AreEqual(double.PositiveInfinity, DeviceCheck.MaxError([1f, 2f], [1f]).MaxError);
    }

    [TestMethod]
    public void CompareAndCombineDecideByTheWorstElement()
    {
        var pass = DeviceCheck.Compare("a", [1f, 2f, 3f], [1f, 2f, 3.00001f], 1e-5);
        Assert.IsTrue(pass.Passed, pass.ToString());
        Assert.AreEqual("3 values", pass.Detail);
        var fail = DeviceCheck.Compare("b", [1f, 2f, 3f], [1f, 2.5f, 3f], 1e-5);
        Assert.IsFalse(fail.Passed);
        Assert.AreEqual(0.25, fail.MaxError, 1e-12);
        StringAssert.Contains(fail.Detail, "worst at [1]: expected 2, got 2.5");
        Assert.IsFalse(DeviceCheck.Compare("c", [1f], [float.NaN], 1).Passed);

        var combined = DeviceCheck.Combine("loss", pass, fail);
        Assert.IsFalse(combined.Passed);
        Assert.AreEqual("loss", combined.Check);
        StringAssert.StartsWith(combined.Detail, "b: worst at [1]");
        var both = DeviceCheck.Combine("both", pass, DeviceCheck.Compare("d", [5f], [5f], 0));
        Assert.IsTrue(both.Passed);
        Assert.AreEqual("a, d within tolerance", both.Detail);
    }

    [TestMethod]
    public void TableListsEveryRowAndEndsWithTheCounts()
    {
        DeviceCheckResult[] results =
        [
            new("gemm NN 7x5x3", true, 1.5e-7, 1e-5, "35 values"),
            new("adam", false, double.NaN, 1e-5, "InvalidOperationException: launch failed"),
            new("loss bernoulli", false, 0.25, 2e-5, "dlogits: worst at [3]"),
        ];
        string table = DeviceCheck.FormatTable(results);
        string[] lines = table.TrimEnd('\n').Split('\n');
        Assert.AreEqual(2 + results.Length + 1, lines.Length, table);
        StringAssert.StartsWith(lines[0], "check");
        StringAssert.Contains(lines[2], "gemm NN 7x5x3");
        StringAssert.Contains(lines[2], "PASS");
        StringAssert.Contains(lines[2], "1.5e-07");
        StringAssert.Contains(lines[3], "FAIL");
        StringAssert.Contains(lines[3], " - ");
        StringAssert.Contains(lines[4], "2.5e-01");
        Assert.AreEqual("1 passed, 2 failed", lines[^1]);
        // Columns line up: the result column starts at the same place in every row.
        int column = lines[0].IndexOf("result", StringComparison.Ordinal);
        Assert.IsTrue(lines.Skip(2).Take(results.Length).All(l => l.IndexOf("PASS", StringComparison.Ordinal) == column || l.IndexOf("FAIL", StringComparison.Ordinal) == column), table);
    }
}
