using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Training.Loop;

/// <summary>
/// Adam (or AdamW) over the network's one flat parameter buffer: the two moment buffers share the
/// parameter layout, so a step is one op whatever the model's depth.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private readonly VaeNetwork _network;
    private readonly DeviceBuffer<float> _m, _v;

    public AdamOptimizer(VaeNetwork network, AdamSettings settings)
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
