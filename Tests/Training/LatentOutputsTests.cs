using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Tests.Training;

/// <summary>The latent points that interpolate, manifold and traverse decode.</summary>
[TestClass]
public sealed class LatentOutputsTests
{
    [TestMethod]
    public void LinearInterpolationRunsFromEndToEndInEqualSteps()
    {
        float[] path = LatentOutputs.Interpolate([1f, -2f], [3f, 2f], 5, spherical: false);
        CollectionAssert.AreEqual(new[] { 1f, -2f, 1.5f, -1f, 2f, 0f, 2.5f, 1f, 3f, 2f }, path);
    }

    [TestMethod]
    public void SphericalInterpolationFollowsTheGreatCircle()
    {
        // a ⟂ b, both of norm 2: θ = π/2, the midpoint is (a + b) sin(π/4) / sin(π/2), still of norm 2.
        float[] path = LatentOutputs.Interpolate([2f, 0f, 0f], [0f, 2f, 0f], 3, spherical: true);
        CollectionAssert.AreEqual(new[] { 2f, 0f, 0f }, path[..3]);
        CollectionAssert.AreEqual(new[] { 0f, 2f, 0f }, path[6..]);
        Assert.AreEqual(Math.Sqrt(2), path[3], 1e-6);
        Assert.AreEqual(Math.Sqrt(2), path[4], 1e-6);
        Assert.AreEqual(0, path[5], 1e-6);

        // At t = 1/4 of θ = π/2: sin(3π/8) a + sin(π/8) b for unit vectors.
        float[] quarter = LatentOutputs.Interpolate([1f, 0f], [0f, 1f], 5, spherical: true);
        Assert.AreEqual(Math.Sin(3 * Math.PI / 8), quarter[2], 1e-6);
        Assert.AreEqual(Math.Sin(Math.PI / 8), quarter[3], 1e-6);
        for (int k = 0; k < 5; k++)
            Assert.AreEqual(1, Math.Sqrt(quarter[2 * k] * quarter[2 * k] + quarter[2 * k + 1] * quarter[2 * k + 1]), 1e-6, $"point {k} stays on the circle");
    }

    [TestMethod]
    public void SphericalInterpolationOfParallelOrZeroEndsIsLinear()
    {
        CollectionAssert.AreEqual(LatentOutputs.Interpolate([1f, 1f], [3f, 3f], 4, false), LatentOutputs.Interpolate([1f, 1f], [3f, 3f], 4, true));
        CollectionAssert.AreEqual(LatentOutputs.Interpolate([0f, 0f], [1f, 2f], 4, false), LatentOutputs.Interpolate([0f, 0f], [1f, 2f], 4, true));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LatentOutputs.Interpolate([0f], [1f], 1, false));
        Assert.ThrowsExactly<ArgumentException>(() => LatentOutputs.Interpolate([0f], [1f, 2f], 3, false));
    }

    [TestMethod]
    public void TheManifoldGridSplitsThePriorIntoEqualMasses()
    {
        double[] q = LatentOutputs.PriorQuantiles(20);
        Assert.AreEqual(-1.959964, q[0], 1e-6, "Φ^-1(0.025)");
        Assert.AreEqual(-0.062707, q[9], 1e-6, "Φ^-1(0.475)");
        for (int i = 0; i < 20; i++) Assert.AreEqual(-q[i], q[19 - i], 1e-12, "symmetric");
        CollectionAssert.AreEqual(new[] { 0.0 }, LatentOutputs.PriorQuantiles(1));

        // Row-major as the picture: z[0] grows to the right, z[1] upwards.
        float[] grid = LatentOutputs.ManifoldGrid(2);
        float a = (float)LatentOutputs.PriorQuantiles(2)[0];
        CollectionAssert.AreEqual(new[] { a, -a, -a, -a, a, a, -a, a }, grid);
    }

    [TestMethod]
    public void ATraversalVariesOneDimensionARow()
    {
        float[] z = LatentOutputs.Traversal([0.5f, 0.25f, -1f], [2, 0], 1, 3);
        CollectionAssert.AreEqual(new[]
        {
            0.5f, 0.25f, -1f, 0.5f, 0.25f, 0f, 0.5f, 0.25f, 1f,
            -1f, 0.25f, -1f, 0f, 0.25f, -1f, 1f, 0.25f, -1f,
        }, z);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LatentOutputs.Traversal([0f, 0f], [2], 1, 3));
    }
}
