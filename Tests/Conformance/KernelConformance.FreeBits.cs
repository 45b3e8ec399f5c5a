using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// Free bits against a double reference written here: the freed dimensions (batch-mean KL below the floor),
/// the floor's share added to each row's loss, the freed dimensions' gradients zeroed and the others left
/// alone, and the validation.
/// </summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    [DataRow(1, 3, 0.5f)]
    [DataRow(7, 5, 0.3f)]
    [DataRow(130, 20, 0.8f)]
    [DataRow(9, 4, 0f)]
    public void FreeBitsFreesTheDimensionsBelowTheFloor(int rows, int latent, float lambda)
    {
        // Half the dimensions near the prior (small KL), half far from it, so both sides are exercised.
        var stats = RandomStats(11 + rows, rows, latent, -0.3f, 0.3f, -0.4f, 0.4f);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < latent; j += 2) stats[i * 2 * latent + j] += 2f;
        float[] loss0 = RandomFloats(3, rows, 100f, 200f), d0 = RandomFloats(4, 2 * rows * latent);
        const float weight = 1.5f;
        using var s = Upload(stats);
        using var loss = Upload(loss0);
        using var d = Upload(d0);
        using var freed = Upload(new float[latent]);
        Acc.FreeBits(s.View, rows, latent, lambda, weight, loss.View, d.View, freed.View);
        float[] gotLoss = Acc.Download(loss.View), gotD = Acc.Download(d.View), gotFreed = Acc.Download(freed.View);

        double Kl(int i, int j)
        {
            double mu = stats[i * 2 * latent + j], lv = stats[i * 2 * latent + latent + j];
            return -0.5 * (1 + lv - mu * mu - Math.Exp(lv));
        }
        var isFreed = new bool[latent];
        for (int j = 0; j < latent; j++)
        {
            double mean = Enumerable.Range(0, rows).Sum(i => Kl(i, j)) / rows;
            isFreed[j] = mean < lambda;
            if (Math.Abs(mean - lambda) > 1e-4) Assert.AreEqual(isFreed[j] ? 1f : 0f, gotFreed[j], $"dimension {j}, mean KL {mean}");
            isFreed[j] = gotFreed[j] == 1f;
        }
        Assert.IsTrue(lambda == 0 || isFreed.Any(f => f), "some dimension is below the floor");
        Assert.IsTrue(isFreed.Any(f => !f), "some dimension is above it");
        for (int i = 0; i < rows; i++)
        {
            double expected = loss0[i] + weight * Enumerable.Range(0, latent).Where(j => isFreed[j]).Sum(j => lambda - Kl(i, j));
            Assert.AreEqual(expected, gotLoss[i], 1e-5 * Math.Abs(expected) + 1e-5, $"loss of row {i}");
            for (int j = 0; j < latent; j++)
            {
                int mu = i * 2 * latent + j;
                Assert.AreEqual(isFreed[j] ? 0f : d0[mu], gotD[mu], $"d mu [{i},{j}]");
                Assert.AreEqual(isFreed[j] ? 0f : d0[mu + latent], gotD[mu + latent], $"d logvar [{i},{j}]");
            }
        }
    }

    [TestMethod]
    public void FreeBitsRejectsWrongShapesAndSettings()
    {
        using var s = Upload(new float[2 * 3 * 4]);
        using var loss = Upload(new float[3]);
        using var d = Upload(new float[2 * 3 * 4]);
        using var freed = Upload(new float[4]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.FreeBits(s.View, 3, 4, -1f, 1f, loss.View, d.View, freed.View));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.FreeBits(s.View, 3, 4, 0.5f, float.NaN, loss.View, d.View, freed.View));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.FreeBits(s.View, 3, 4, 0.5f, 1f, loss.View, d.View, freed.Slice(0, 3)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.FreeBits(s.View, 3, 4, 0.5f, 1f, loss.View, s.View, freed.View));
    }
}
