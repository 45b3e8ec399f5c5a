using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// Activation forward and backward, side by side, and fill: element-wise grid-stride loops, so a
/// launch of a few explicitly sized groups covers any length (ILGPU's CPU accelerator wakes one OS
/// thread per GPU thread, and a launch sized to the data would wake thousands).
/// </summary>
internal static class IlgpuActivationKernels
{
    /// <summary>y = f(x); x and y may be the same view (in place).</summary>
    public static void Forward(ArrayView<float> x, ArrayView<float> y, int activation, float slope)
    {
        int count = x.IntLength;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
            y[e] = IlgpuActivationMath.Apply(activation, x[e], slope);
    }

    /// <summary>dx = dy * f'(y), f' written in terms of the forward output; dx may be dy.</summary>
    public static void Backward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int activation, float slope)
    {
        int count = y.IntLength;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
            dx[e] = dy[e] * IlgpuActivationMath.Derivative(activation, y[e], slope);
    }

    public static void Fill(ArrayView<float> target, float value)
    {
        int count = target.IntLength;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
            target[e] = value;
    }
}
