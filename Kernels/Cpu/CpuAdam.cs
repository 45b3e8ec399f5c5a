namespace IlgpuVae.Kernels.Cpu;

/// <summary>Adam / AdamW over the one flat parameter buffer (PyTorch's update order and formulas).</summary>
internal static class CpuAdam
{
    public static void Run(CpuAccelerator acc, AdamSettings s, float bc1, float bc2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v)
    {
        var p = parameters.Span(); var g = gradients.Span(); var ms = m.Span(); var vs = v.Span();
        float stepSize = s.LearningRate / bc1, sqrtBc2 = MathF.Sqrt(bc2);
        for (int i = 0; i < p.Length; i++)
        {
            float grad = g[i];
            if (s.WeightDecay != 0)
            {
                if (s.Decoupled) p[i] *= 1f - s.LearningRate * s.WeightDecay;
                else grad += s.WeightDecay * p[i];
            }
            ms[i] = s.Beta1 * ms[i] + (1f - s.Beta1) * grad;
            vs[i] = s.Beta2 * vs[i] + (1f - s.Beta2) * grad * grad;
            p[i] -= stepSize * ms[i] / (MathF.Sqrt(vs[i]) / sqrtBc2 + s.Epsilon);
        }
    }
}
