using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// Free bits as two grid-strided kernels: one thread per latent dimension for the batch means (summed in
/// row order, as the CPU backend sums them), then one thread per row for the loss and the gradients.
/// </summary>
internal static class IlgpuFreeBitsKernels
{
    public static void FreedDimensions(ArrayView<float> stats, ArrayView<float> freed, int rows, int latent, float lambda)
    {
        for (int j = Grid.GlobalIndex.X; j < latent; j += Grid.DimX * Group.DimX)
        {
            float sum = 0f;
            for (int i = 0; i < rows; i++) sum += FreeBitsMath.Kl(stats[i * 2 * latent + j], stats[i * 2 * latent + latent + j]);
            freed[j] = sum / rows < lambda ? 1f : 0f;
        }
    }

    public static void ApplyFloor(ArrayView<float> stats, ArrayView<float> freed, ArrayView<float> perSampleLoss, ArrayView<float> dstats,
        int rows, int latent, float lambda, float weight)
    {
        for (int i = Grid.GlobalIndex.X; i < rows; i += Grid.DimX * Group.DimX)
        {
            float added = 0f;
            for (int j = 0; j < latent; j++)
            {
                if (freed[j] == 0f) continue;
                int mu = i * 2 * latent + j;
                added += lambda - FreeBitsMath.Kl(stats[mu], stats[mu + latent]);
                dstats[mu] = 0f;
                dstats[mu + latent] = 0f;
            }
            perSampleLoss[i] += weight * added;
        }
    }
}
