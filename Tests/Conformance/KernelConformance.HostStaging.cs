using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>Host staging memory (pinned, page-locked on GPUs): copies through it both ways are exact.</summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(652_945)]
    public void CopiesThroughHostStagingAreExact(int length)
    {
        var values = RandomFloats(7, length, -5f, 5f);
        using var source = Upload(values);
        using var target = Acc.Allocate<float>(length);
        using var staging = Acc.AllocateHostStaging<float>(length);
        Assert.HasCount(length, staging.Array);
        Acc.CopyToHost(source.View, staging.Span);
        CollectionAssert.AreEqual(values, staging.Array);
        for (int i = 0; i < length; i++) staging.Array[i] *= 2f;
        Acc.CopyFromHost<float>(staging.Span, target.View);
        var back = Download(target.View);
        for (int i = 0; i < length; i++)
            if (back[i] != 2f * values[i]) Assert.Fail($"element {i}: {back[i]:R}, expected {2f * values[i]:R}");
    }
}
