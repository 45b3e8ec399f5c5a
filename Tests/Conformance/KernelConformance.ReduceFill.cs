using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>ReduceSum and Fill.</summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(7)]
    [DataRow(255)]
    [DataRow(4097)]
    [DataRow(1000003)]
    public void ReduceSumMatchesDoubleSum(int length)
    {
        var values = RandomFloats(length + 61, length, -1f, 3f);
        double expected = 0, magnitude = 0;
        foreach (float v in values) { expected += v; magnitude += Math.Abs(v); }
        var (valuesBuffer, valuesView) = UploadAtOffset(values, 1);
        var (resultBuffer, resultView) = UploadAtOffset([float.NaN], 2);
        using (valuesBuffer)
        using (resultBuffer)
        {
            Acc.ReduceSum(valuesView, resultView);
            // 1e-6 of the magnitude: a float accumulator over a million elements needs a tree or
            // blocked order to meet it, a plain running sum does not.
            AssertClose([expected], Download(resultView), _ => 1e-6 * magnitude + 1e-6, $"sum of {length}");
            AssertGuardsIntact(resultBuffer, 2, 1, "result buffer");
        }
    }

    [TestMethod]
    public void ReduceSumOfConstantsIsExactEnough()
    {
        // 2^20 ones: every partial sum is an exact float, so any order gives exactly 2^20.
        using var ones = Upload(Filled(1 << 20, 1f));
        using var result = Acc.Allocate<float>(1);
        Acc.ReduceSum(ones, result);
        Assert.AreEqual(1048576f, Download(result)[0]);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(64)]
    [DataRow(257)]
    [DataRow(100003)]
    public void FillSetsExactlyTheView(int length)
    {
        var (buffer, view) = UploadAtOffset(RandomFloats(71, length), 3);
        using (buffer)
        {
            Acc.Fill(view, 0.375f);
            var values = Download(view);
            Assert.IsTrue(values.All(v => v == 0.375f), $"fill of {length}: not every element is 0.375");
            AssertGuardsIntact(buffer, 3, length, $"fill of {length}");
            Acc.Fill(view, float.NegativeInfinity);
            Assert.IsTrue(Download(view).All(float.IsNegativeInfinity), "fill with -inf");
        }
    }
}
