namespace IlgpuVae.Kernels;

/// <summary>
/// What an accelerator has been asked to do since it opened: buffer allocations, copies each way,
/// synchronisations and (kernel backends) kernel launches. The difference of two snapshots tells what
/// a piece of work cost in round trips: a training step must enqueue launches only, with no copy or
/// wait, so a GPU never idles on the host inside a step.
/// </summary>
public readonly record struct AcceleratorCounters(
    long Allocations, long HostToDevice, long DeviceToHost, long DeviceToDevice, long Synchronizations, long Launches)
{
    public static AcceleratorCounters operator -(AcceleratorCounters a, AcceleratorCounters b) => new(
        a.Allocations - b.Allocations, a.HostToDevice - b.HostToDevice, a.DeviceToHost - b.DeviceToHost,
        a.DeviceToDevice - b.DeviceToDevice, a.Synchronizations - b.Synchronizations, a.Launches - b.Launches);

    /// <summary>Host round trips: copies either way and waits (what a step must not contain).</summary>
    public long HostInteractions => HostToDevice + DeviceToHost + Synchronizations;
}
