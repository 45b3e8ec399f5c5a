/*
 * prelude_cuda.h: the CUDA C++ (NVRTC) side of the shared kernel dialect.
 *
 * Defines exactly the macro list documented at the top of prelude_opencl.h, with the same meaning;
 * a macro added there must be added here. NVRTC compiles with --device-as-default-execution-space,
 * so the plain functions of the sources are device functions too.
 *
 * Differences from OpenCL that the macros absorb:
 *   - kernels are `extern "C"` so NVRTC keeps their names and the driver finds them by name;
 *   - address spaces: global pointers are plain pointers, LOCAL arrays are __shared__ variables;
 *   - work-item indices are computed from blockIdx, blockDim and threadIdx (OpenCL's global id with a
 *     zero global offset, which is the only offset the backends launch with);
 *   - the math functions are CUDA's float functions (expf, ...), full precision: NVRTC is never given
 *     --use_fast_math, so they are what the conformance tolerances assume.
 */
#ifndef IVAE_PRELUDE_CUDA_H
#define IVAE_PRELUDE_CUDA_H

typedef unsigned int uint;
typedef unsigned char uchar;

#define KERNEL extern "C" __global__
#define DEVICE_FN static __device__ inline
#define GLOBAL
#define LOCAL __shared__
#define CONSTANT __constant__
#define RESTRICT __restrict__

/* Dimension d of a CUDA built-in vector; d is almost always a literal, which the compiler folds. */
static __device__ __forceinline__ int ivae_dim(uint3 v, int d) { return (int)(d == 0 ? v.x : d == 1 ? v.y : v.z); }
static __device__ __forceinline__ int ivae_dim(dim3 v, int d) { return (int)(d == 0 ? v.x : d == 1 ? v.y : v.z); }

#define GLOBAL_ID(d) (ivae_dim(blockIdx, (d)) * ivae_dim(blockDim, (d)) + ivae_dim(threadIdx, (d)))
#define LOCAL_ID(d) ivae_dim(threadIdx, (d))
#define GROUP_ID(d) ivae_dim(blockIdx, (d))
#define LOCAL_SIZE(d) ivae_dim(blockDim, (d))
#define NUM_GROUPS(d) ivae_dim(gridDim, (d))
#define BARRIER() __syncthreads()

#define MULHI(a, b) __umulhi((uint)(a), (uint)(b))

#define EXPF(x) expf(x)
#define LOGF(x) logf(x)
#define LOG1PF(x) log1pf(x)
#define SQRTF(x) sqrtf(x)
#define SINF(x) sinf(x)
#define COSF(x) cosf(x)
#define TANHF(x) tanhf(x)
#define FABSF(x) fabsf(x)
#define FMAXF(a, b) fmaxf(a, b)
#define FMINF(a, b) fminf(a, b)
#define FMAF(a, b, c) fmaf(a, b, c)

#endif
