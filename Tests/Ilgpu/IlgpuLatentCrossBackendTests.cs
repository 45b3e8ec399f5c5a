using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The latent-hierarchy and GAN kernels on ILGPU's CPU accelerator against the CPU backend, same inputs:
/// bit for bit, since both run <see cref="LatentMath"/>'s element rules with .NET's MathF and add a KL
/// row's terms in float in column order. Ragged shapes, logvars of ±20 among ordinary ones, outputs at
/// offsets and pre-filled where the ops accumulate.
/// </summary>
[TestClass]
public sealed class IlgpuLatentCrossBackendTests
{
    private static float[] Values(Random rng, int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * rng.NextSingle()).ToArray();

    /// <summary>Stats whose logvars are uniform in [-4, 4], every fifth one ±20.</summary>
    private static float[] Stats(Random rng, int rows, int latent)
    {
        var stats = Values(rng, 2 * rows * latent, -4f, 4f);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j += 5)
            stats[i * 2 * latent + latent + j] = rng.Next(2) == 0 ? 20f : -20f;
        return stats;
    }

    private static void AssertSameBits(float[] cpu, float[] ilgpu, string what)
    {
        Assert.HasCount(cpu.Length, ilgpu);
        for (int k = 0; k < cpu.Length; k++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(cpu[k]), BitConverter.SingleToInt32Bits(ilgpu[k]),
                $"{what}[{k}]: cpu {cpu[k]:R}, ilgpu-cpu {ilgpu[k]:R}");
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(7, 3)]
    [DataRow(130, 50)]
    [DataRow(33, 100)]
    public void GaussianKlIsBitIdentical(int rows, int latent)
    {
        var rng = new Random(701 + rows + latent);
        var q = Stats(rng, rows, latent);
        var p = Stats(rng, rows, latent);
        var loss = Values(rng, rows, 10f, 200f);
        var dq = Values(rng, q.Length, -1f, 1f);
        var dp = Values(rng, p.Length, -1f, 1f);
        float[][] Run(Accelerator acc)
        {
            using (acc)
            {
                using var dQ = acc.Upload<float>(q);
                using var dP = acc.Upload<float>(p);
                using var l = acc.Upload<float>([0f, .. loss]);
                using var gq = acc.Upload<float>(dq);
                using var gp = acc.Upload<float>([0f, 0f, .. dp]);
                using var kl = acc.Allocate<float>(rows);
                acc.GaussianKl(dQ, dP, rows, latent, 0.6f, l.Slice(1, rows), gq, gp.Slice(2, dp.Length), kl);
                return [acc.Download(l.View), acc.Download(gq.View), acc.Download(gp.View), acc.Download(kl.View)];
            }
        }
        var cpu = Run(new CpuAccelerator());
        var ilgpu = Run(IlgpuAccelerator.CreateCpu());
        string[] names = ["loss", "dq", "dp", "kl"];
        for (int o = 0; o < names.Length; o++) AssertSameBits(cpu[o], ilgpu[o], $"KL {rows}x{latent} {names[o]}");
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(7, 3)]
    [DataRow(130, 50)]
    [DataRow(33, 100)]
    public void PrecisionMergeAndItsBackwardAreBitIdentical(int rows, int latent)
    {
        var rng = new Random(711 + rows + latent);
        var bottomUp = Stats(rng, rows, latent);
        var topDown = Stats(rng, rows, latent);
        var dMerged = Values(rng, bottomUp.Length, -2f, 2f);
        var dBottomUp = Values(rng, bottomUp.Length, -1f, 1f);
        var dTopDown = Values(rng, topDown.Length, -1f, 1f);
        float[][] Run(Accelerator acc)
        {
            using (acc)
            {
                using var bu = acc.Upload<float>(bottomUp);
                using var td = acc.Upload<float>([0f, .. topDown]);
                using var g = acc.Upload<float>(dMerged);
                using var merged = acc.Allocate<float>(bottomUp.Length + 3);
                using var dbu = acc.Upload<float>(dBottomUp);
                using var dtd = acc.Upload<float>(dTopDown);
                acc.PrecisionMerge(bu, td.Slice(1, topDown.Length), rows, latent, merged.Slice(3, bottomUp.Length));
                acc.PrecisionMergeBackward(bu, td.Slice(1, topDown.Length), g, rows, latent, dbu, dtd);
                return [acc.Download(merged.Slice(3, bottomUp.Length)), acc.Download(dbu.View), acc.Download(dtd.View)];
            }
        }
        var cpu = Run(new CpuAccelerator());
        var ilgpu = Run(IlgpuAccelerator.CreateCpu());
        string[] names = ["merged", "dBottomUp", "dTopDown"];
        for (int o = 0; o < names.Length; o++) AssertSameBits(cpu[o], ilgpu[o], $"merge {rows}x{latent} {names[o]}");
    }

    [TestMethod]
    [DataRow(1, 1f, 1f)]
    [DataRow(130, 0f, 1f)]
    [DataRow(130, 0f, -1f)]
    [DataRow(7, 0.9f, 0.5f)]
    public void LogisticLossIsBitIdentical(int rows, float target, float scale)
    {
        var rng = new Random(721 + rows);
        var logits = Values(rng, rows, -10f, 10f);
        for (int i = 0; i < rows; i += 7) logits[i] = i % 2 == 0 ? 100f : -100f;
        float[][] Run(Accelerator acc)
        {
            using (acc)
            {
                using var l = acc.Upload<float>(logits);
                using var loss = acc.Allocate<float>(rows);
                using var d = acc.Allocate<float>(rows + 1);
                acc.LogisticLoss(l, rows, target, scale, loss, d.Slice(1, rows));
                return [acc.Download(loss.View), acc.Download(d.Slice(1, rows))];
            }
        }
        var cpu = Run(new CpuAccelerator());
        var ilgpu = Run(IlgpuAccelerator.CreateCpu());
        AssertSameBits(cpu[0], ilgpu[0], $"logistic {rows} target {target} scale {scale}: loss");
        AssertSameBits(cpu[1], ilgpu[1], $"logistic {rows} target {target} scale {scale}: dlogits");
    }
}
