using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// The scalars of an Adam step, computed once on the host exactly as the CPU reference computes them
/// (stepSize = lr / (1 - b1^t), sqrtBc2 = sqrt(1 - b2^t), decay = 1 - lr wd), so both backends round alike.
/// </summary>
internal readonly struct AdamArgs
{
    public AdamArgs(AdamSettings s, float biasCorrection1, float biasCorrection2)
    {
        Beta1 = s.Beta1; Beta2 = s.Beta2; OneMinusBeta1 = 1f - s.Beta1; OneMinusBeta2 = 1f - s.Beta2; Epsilon = s.Epsilon;
        StepSize = s.LearningRate / biasCorrection1;
        SqrtBc2 = MathF.Sqrt(biasCorrection2);
        Decoupled = s.Decoupled && s.WeightDecay != 0 ? 1 : 0;
        Coupled = !s.Decoupled && s.WeightDecay != 0 ? 1 : 0;
        Decay = s.Decoupled ? 1f - s.LearningRate * s.WeightDecay : 1f;
        L2 = s.Decoupled ? 0f : s.WeightDecay;
    }

    public readonly float Beta1, Beta2, OneMinusBeta1, OneMinusBeta2, Epsilon, StepSize, SqrtBc2, Decay, L2;
    public readonly int Decoupled, Coupled;
}

/// <summary>
/// One Adam / AdamW step over the flat parameter buffer, grid-strided, in
/// the CPU reference's order of float operations: PyTorch's update.
/// </summary>
internal static class IlgpuAdamKernel
{
    public static void Step(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v, AdamArgs s)
    {
        int count = parameters.IntLength;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            float p = parameters[e];
            float g = gradients[e];
            if (s.Decoupled != 0) p *= s.Decay;
            else if (s.Coupled != 0) g += s.L2 * p;
            float mNew = s.Beta1 * m[e] + s.OneMinusBeta1 * g;
            float vNew = s.Beta2 * v[e] + s.OneMinusBeta2 * g * g;
            m[e] = mNew;
            v[e] = vNew;
            parameters[e] = p - s.StepSize * mNew / (MathF.Sqrt(vNew) / s.SqrtBc2 + s.Epsilon);
        }
    }
}
