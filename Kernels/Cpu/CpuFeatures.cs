using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuVae.Kernels.Cpu;

internal static class CpuFeatures
{
    public static string Describe()
    {
        if (Vector512.IsHardwareAccelerated) return "AVX-512";
        if (Fma.IsSupported && Avx2.IsSupported) return "AVX2+FMA";
        if (Vector256.IsHardwareAccelerated) return "256-bit SIMD";
        if (Vector128.IsHardwareAccelerated) return "128-bit SIMD";
        return "scalar";
    }
}
