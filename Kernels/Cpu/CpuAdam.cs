using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// Adam / AdamW over the one flat parameter buffer (PyTorch's update order and formulas), Vector256
/// over static chunks of the buffer. The vector lanes and the scalar tail do the same float operations
/// in the same order, so where an element falls does not change its value.
/// </summary>
internal static class CpuAdam
{
    public static void Run(CpuAccelerator acc, AdamSettings s, float bc1, float bc2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v)
    {
        float[] P = parameters.Array(), G = gradients.Array(), M = m.Array(), V = v.Array();
        int po = parameters.Offset, go = gradients.Offset, mo = m.Offset, vo = v.Offset;
        float stepSize = s.LearningRate / bc1, sqrtBc2 = MathF.Sqrt(bc2);
        float decay = s.Decoupled ? 1f - s.LearningRate * s.WeightDecay : 1f;
        float l2 = s.Decoupled ? 0f : s.WeightDecay;
        CpuParallel.For(acc, parameters.Length, minChunk: 1 << 15, (start, end) =>
            Update(s, stepSize, sqrtBc2, decay, l2,
                P.AsSpan(po + start, end - start), G.AsSpan(go + start, end - start),
                M.AsSpan(mo + start, end - start), V.AsSpan(vo + start, end - start)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Update(AdamSettings s, float stepSize, float sqrtBc2, float decay, float l2,
        Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v)
    {
        float b1 = s.Beta1, b2 = s.Beta2, c1 = 1f - s.Beta1, c2 = 1f - s.Beta2, eps = s.Epsilon;
        bool decoupled = s.Decoupled && s.WeightDecay != 0, coupled = !s.Decoupled && s.WeightDecay != 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float pr = ref MemoryMarshal.GetReference(p);
            ref float gr = ref MemoryMarshal.GetReference(g);
            ref float mr = ref MemoryMarshal.GetReference(m);
            ref float vr = ref MemoryMarshal.GetReference(v);
            Vector256<float> vb1 = Vector256.Create(b1), vb2 = Vector256.Create(b2), vc1 = Vector256.Create(c1), vc2 = Vector256.Create(c2);
            Vector256<float> vStep = Vector256.Create(stepSize), vSqrtBc2 = Vector256.Create(sqrtBc2), vEps = Vector256.Create(eps);
            Vector256<float> vDecay = Vector256.Create(decay), vL2 = Vector256.Create(l2);
            for (; i + 8 <= p.Length; i += 8)
            {
                var pv = Vector256.LoadUnsafe(ref pr, (nuint)i);
                var grad = Vector256.LoadUnsafe(ref gr, (nuint)i);
                if (decoupled) pv *= vDecay;
                else if (coupled) grad += vL2 * pv;
                var mv = vb1 * Vector256.LoadUnsafe(ref mr, (nuint)i) + vc1 * grad;
                var vv = vb2 * Vector256.LoadUnsafe(ref vr, (nuint)i) + vc2 * grad * grad;
                pv -= vStep * mv / (Vector256.Sqrt(vv) / vSqrtBc2 + vEps);
                mv.StoreUnsafe(ref mr, (nuint)i);
                vv.StoreUnsafe(ref vr, (nuint)i);
                pv.StoreUnsafe(ref pr, (nuint)i);
            }
        }
        for (; i < p.Length; i++)
        {
            float grad = g[i];
            if (decoupled) p[i] *= decay;
            else if (coupled) grad += l2 * p[i];
            m[i] = b1 * m[i] + c1 * grad;
            v[i] = b2 * v[i] + c2 * grad * grad;
            p[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / sqrtBc2 + eps);
        }
    }
}
