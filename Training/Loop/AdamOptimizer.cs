using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Training.Loop;

/// <summary>
/// Adam (or AdamW) over the network's one flat parameter buffer: the two moment buffers share the
/// parameter layout, so a step is one op whatever the model's depth.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private readonly IVaeModel _network;
    private readonly DeviceBuffer<float> _m, _v;

    public AdamOptimizer(IVaeModel network, AdamSettings settings)
    {
        _network = network;
        Settings = settings;
        var acc = network.Accelerator;
        _m = acc.Allocate<float>(network.Layout.Length);
        _v = acc.Allocate<float>(network.Layout.Length);
        acc.Fill(_m, 0f);
        acc.Fill(_v, 0f);
    }

    public AdamSettings Settings { get; }

    /// <summary>Steps taken so far; Adam's bias corrections count from 1.</summary>
    public int StepCount { get; private set; }

    public DeviceBuffer<float> FirstMoment => _m;
    public DeviceBuffer<float> SecondMoment => _v;

    /// <summary>Sets the moments and the step count of a checkpoint (the next step is stepCount + 1).</summary>
    public void Restore(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment, int stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        if (firstMoment.Length != _m.Length || secondMoment.Length != _v.Length)
            throw new ArgumentException($"the moments have {firstMoment.Length} and {secondMoment.Length} floats; the parameters {_m.Length}");
        var acc = _network.Accelerator;
        acc.CopyFromHost(firstMoment, _m.View);
        acc.CopyFromHost(secondMoment, _v.View);
        StepCount = stepCount;
    }

    /// <summary>Applies the network's current gradients.</summary>
    public void Step()
    {
        StepCount++;
        _network.Accelerator.Adam(Settings, StepCount, _network.Parameters, _network.Gradients, _m, _v);
    }

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
    }
}
