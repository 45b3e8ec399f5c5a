using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// A training batch from the device-resident uint8 data set:
/// out[i, d] = data[idx[i], d] * (1f / 255f), optionally binarised with u(e) &lt; value, u the Philox
/// uniform of output element e (element e + Offset of the whole draw). One thread covers the elements of one
/// Philox block.
/// </summary>
internal static class IlgpuGatherKernel
{
    public static void Gather(ArrayView<byte> data, ArrayView<int> indices, ArrayView<float> output, int features,
        int binarize, PhiloxArgs random)
    {
        int count = output.IntLength, groups = random.Groups(count), samples = data.IntLength / features;
        long offset = random.Offset;
        for (int k = Grid.GlobalIndex.X; k < groups; k += Grid.DimX * Group.DimX)
        {
            long group = (offset >> 2) + k;
            uint w0 = 0u, w1 = 0u, w2 = 0u, w3 = 0u;
            if (binarize != 0) (w0, w1, w2, w3) = random.Block((uint)group);
            // This call's elements of the group (the whole draw's group * 4 + lane is element e + offset).
            int laneStart = (int)IntrinsicMath.Max(0L, offset - group * 4), laneEnd = (int)IntrinsicMath.Min(4L, offset + count - group * 4);
            for (int lane = laneStart; lane < laneEnd; lane++)
            {
                int e = (int)(group * 4 + lane - offset), r = e / features, d = e - r * features;
                int index = indices[r];
                float value;
                // The host owns index validity; an out-of-range row becomes NaN instead of a wild read.
                if (index < 0 || index >= samples) value = float.NaN;
                else
                {
                    value = data[index * features + d] * (1f / 255f);
                    uint word = lane == 0 ? w0 : lane == 1 ? w1 : lane == 2 ? w2 : w3;
                    if (binarize != 0) value = Philox.Uniform(word) < value ? 1f : 0f;
                }
                output[e] = value;
            }
        }
    }
}
