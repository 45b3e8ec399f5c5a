namespace IlgpuVae.Kernels.Cpu;

/// <summary>GEMM on the CPU. Straightforward row-parallel loops; the packed SIMD kernel replaces the inner part.</summary>
internal static class CpuGemm
{
    public static void Run(CpuAccelerator acc, Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue)
    {
        float[] A = a.Array(), B = b.Array(), C = c.Array();
        int ao = a.Offset, bo = b.Offset, co = c.Offset;
        float[]? bias = epilogue.Bias.IsNull ? null : epilogue.Bias.Array();
        int biasOffset = epilogue.Bias.IsNull ? 0 : epilogue.Bias.Offset;
        Parallel.For(0, m, acc.Parallel, i =>
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA == Transpose.N ? A[ao + i * k + p] : A[ao + p * m + i];
                    float bv = transB == Transpose.N ? B[bo + p * n + j] : B[bo + j * k + p];
                    sum += av * bv;
                }
                float value = alpha * sum;
                if (beta != 0) value += beta * C[co + i * n + j];
                if (bias != null) value += bias[biasOffset + j];
                C[co + i * n + j] = CpuActivations.Apply(epilogue.Activation, value, epilogue.LeakySlope);
            }
        });
    }
}
