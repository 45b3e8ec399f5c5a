using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// cuBLAS SGEMM through ILGPU.Algorithms' CuBlas wrapper, on an ILGPU CUDA accelerator of its own on one
/// CUDA device: the yardstick `bench` puts our GEMM beside. Only `bench` on a CUDA device creates one, so
/// cuBLAS is loaded nowhere else. Matrices are row-major like the accelerator contract; cuBLAS is
/// column-major, so C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T (see <see cref="ColumnMajor"/>).
/// </summary>
public sealed class CuBlasGemm : IDisposable
{
    private readonly Context _context;
    private readonly CudaAccelerator _accelerator;
    private readonly CuBlas _blas;

    private CuBlasGemm(Context context, CudaAccelerator accelerator, CuBlas blas)
    {
        _context = context;
        _accelerator = accelerator;
        _blas = blas;
    }

    /// <summary>cuBLAS's version number, e.g. 120902 for 12.9.2 (as cublasGetVersion reports it).</summary>
    public int Version => _blas.Version;

    /// <summary>
    /// Opens cuda:<paramref name="index"/> and loads cuBLAS (libcublas.so.12, else .13, else older: ILGPU.Algorithms
    /// tries the versions it binds). Throws DeviceUnavailableException with the reason when either fails.
    /// </summary>
    public static CuBlasGemm Open(int index)
    {
        var devices = IlgpuDevices.ListCuda(out string? reason);
        if (index < 0 || index >= devices.Count || !devices[index].IsUsable)
            throw new DeviceUnavailableException($"cuda:{index} is not a usable CUDA device: {reason ?? devices.ElementAtOrDefault(index)?.UnusableReason ?? "no such device"}");
        var (context, device) = IlgpuDevices.CreateContext(devices[index]);
        CudaAccelerator? accelerator = null;
        try
        {
            accelerator = ((CudaDevice)device).CreateCudaAccelerator(context);
            return new CuBlasGemm(context, accelerator, new CuBlas(accelerator));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            accelerator?.Dispose();
            context.Dispose();
            throw new DeviceUnavailableException(
                $"cuBLAS could not be loaded ({string.Join(", ", IlgpuNativeLibraries.NamesTried("libcublas.so.12"))}, then older): {Innermost(e).Message}", e);
        }
    }

    /// <summary>The cuBLAS call for a row-major C[m,n] = op(A) op(B): operations, sizes and leading dimensions.</summary>
    public readonly record struct ColumnMajorCall(Transpose OpFirst, Transpose OpSecond, int M, int N, int K, int LdFirst, int LdSecond, int LdC);

    /// <summary>
    /// Row-major X is column-major X^T with the same leading dimension, so row-major C = op(A) op(B) is
    /// column-major C^T = op(B)^T op(A)^T: cuBLAS gets B first with m and n swapped; a row-major operand's
    /// leading dimension is its stored row length (A: k if N, m if T; B: n if N, k if T; C: n).
    /// </summary>
    public static ColumnMajorCall ColumnMajor(Transpose transA, Transpose transB, int m, int n, int k)
        => new(transB, transA, n, m, k,
            LdFirst: transB == Transpose.N ? n : k,
            LdSecond: transA == Transpose.N ? k : m,
            LdC: n);

    /// <summary>
    /// Computes row-major C = op(A) op(B) once (for checking against our GEMM), then times
    /// <paramref name="repeats"/> calls, each waited for, and returns C and the median milliseconds.
    /// </summary>
    public (float[] C, double MedianMilliseconds) Run(Transpose transA, Transpose transB, int m, int n, int k,
        float[] a, float[] b, int repeats)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        if (a.Length != (long)m * k || b.Length != (long)k * n)
            throw new ArgumentException($"A has {a.Length} and B {b.Length} elements; {m}x{k} and {k}x{n} expected");
        using var da = _accelerator.Allocate1D(a);
        using var db = _accelerator.Allocate1D(b);
        using var dc = _accelerator.Allocate1D<float>((long)m * n);
        var call = ColumnMajor(transA, transB, m, n, k);
        void Once() => _blas.Gemm(Operation(call.OpFirst), Operation(call.OpSecond), call.M, call.N, call.K,
            1f, db.View, call.LdFirst, da.View, call.LdSecond, 0f, dc.View, call.LdC);

        Once();
        _accelerator.Synchronize();
        var result = dc.GetAsArray1D();
        return (result, MedianTimer.Milliseconds(Once, _accelerator.Synchronize, repeats));
    }

    private static CuBlasOperation Operation(Transpose t) => t == Transpose.N ? CuBlasOperation.NonTranspose : CuBlasOperation.Transpose;

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    public void Dispose()
    {
        _blas.Dispose();
        _accelerator.Dispose();
        _context.Dispose();
    }
}
