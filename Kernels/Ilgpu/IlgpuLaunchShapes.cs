namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// Group sizes and counts of one ILGPU device. ILGPU's CPU accelerator runs one OS thread per GPU
/// thread and groups one after another, so there a launch is one warp-sized group (a grid-stride loop
/// covers the data); a GPU gets 256-thread groups, enough of them to fill every multiprocessor.
/// Reductions use power-of-two groups: every tree level halves evenly.
/// </summary>
internal sealed record IlgpuLaunchShapes(int ElementGroup, int MaxElementGroups, int ReduceGroup, int BiasX, int BiasY)
{
    public static IlgpuLaunchShapes For(ILGPU.Runtime.Accelerator device)
    {
        int maxGroup = device.MaxNumThreadsPerGroup;
        if (device.AcceleratorType == ILGPU.Runtime.AcceleratorType.CPU)
        {
            int warp = Pow2AtMost(Math.Max(1, Math.Min(device.WarpSize, 32)));
            // Bias gradient: one thread a column, so its kernel needs no barrier.
            return new IlgpuLaunchShapes(warp, Math.Max(1, device.NumMultiprocessors), warp, Math.Min(IlgpuReduceKernels.MaxBiasX, warp), 1);
        }
        int group = Pow2AtMost(Math.Min(256, maxGroup));
        int perMultiprocessor = Math.Max(1, device.MaxNumThreadsPerMultiprocessor / group);
        int bias = group >= 256 ? 16 : group >= 64 ? 8 : 4;
        return new IlgpuLaunchShapes(group, Math.Max(1, device.NumMultiprocessors * perMultiprocessor), group, bias, Math.Max(1, group / bias));
    }

    /// <summary>Groups for an element-wise launch over items work items: no more than the work needs.</summary>
    public int ElementGroupsFor(int items) => (int)Math.Clamp((items + (long)ElementGroup - 1) / ElementGroup, 1, MaxElementGroups);

    private static int Pow2AtMost(int value)
    {
        int p = 1;
        while (p * 2 <= value) p *= 2;
        return p;
    }
}
