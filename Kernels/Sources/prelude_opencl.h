/*
 * prelude_opencl.h: the OpenCL C 1.2 side of the shared kernel dialect.
 *
 * Every kernel family (a .cl file under Sources) and shared header (a .h file there) is written once,
 * in the common subset of OpenCL C 1.2 and CUDA C++, and is compiled by OpenCL (after this prelude) and
 * by NVRTC (after prelude_cuda.h). Whatever the two languages spell differently goes through the macros below,
 * and only through them; prelude_cuda.h defines exactly the same list. A macro added here must be
 * added there, and compiled by both (the OpenCL conformance tests and the NVRTC compile test).
 *
 * The dialect
 *   KERNEL            starts a kernel entry point: `KERNEL void name(...)`.
 *                     OpenCL `__kernel`; CUDA `extern "C" __global__` (the name stays unmangled).
 *   DEVICE_FN         starts a non-kernel function: OpenCL `static inline`; CUDA `__device__ inline`.
 *   GLOBAL            qualifies pointers to device buffers (kernel and function parameters only).
 *                     OpenCL `__global`; CUDA nothing.
 *   LOCAL             declares a work-group shared array, at the outermost scope of a kernel only;
 *                     never in a pointer type (CUDA's __shared__ is not a type qualifier).
 *                     OpenCL `__local`; CUDA `__shared__`.
 *   CONSTANT          declares a program-scope read-only table. OpenCL `__constant`; CUDA `__constant__`.
 *   RESTRICT          no-alias pointer qualifier. OpenCL `restrict`; CUDA `__restrict__`.
 *   GLOBAL_ID(d)      global work-item index in dimension d (0 or 1), as int.
 *   LOCAL_ID(d)       index within the work-group (CUDA threadIdx), as int.
 *   GROUP_ID(d)       work-group index (CUDA blockIdx), as int.
 *   LOCAL_SIZE(d)     work-group size (CUDA blockDim), as int.
 *   NUM_GROUPS(d)     number of work-groups (CUDA gridDim), as int.
 *   BARRIER()         work-group barrier that also orders LOCAL memory.
 *                     OpenCL `barrier(CLK_LOCAL_MEM_FENCE)`; CUDA `__syncthreads()`.
 *   MULHI(a, b)       high 32 bits of the 64-bit product of two uint. OpenCL `mul_hi`; CUDA `__umulhi`.
 *   EXPF LOGF LOG1PF SQRTF SINF COSF TANHF FABSF FMAXF FMINF FMAF
 *                     single-precision math, full precision (never native_ or __expf forms: the
 *                     conformance suite compares with double references).
 *   Types             int, uint, float, uchar (CUDA's prelude typedefs uint and uchar).
 *   #pragma unroll    (not a macro) before a loop with a compile-time trip count: clang's OpenCL
 *                     front end and NVRTC both unroll it fully.
 *
 * Rules that keep a source valid in both languages: no OpenCL vector types or built-ins outside this
 * list; explicit casts (valid C++); float literals with an f suffix (an unsuffixed literal is double
 * in C++); structs declared with typedef; kernel names unique across all families; compile-time
 * parameters (tile sizes, work-group sizes) arrive as #define lines between the prelude and the
 * source, and every family gives them defaults with #ifndef.
 */
#ifndef IVAE_PRELUDE_OPENCL_H
#define IVAE_PRELUDE_OPENCL_H

#define KERNEL __kernel
#define DEVICE_FN static inline
#define GLOBAL __global
#define LOCAL __local
#define CONSTANT __constant
#define RESTRICT restrict

#define GLOBAL_ID(d) ((int)get_global_id(d))
#define LOCAL_ID(d) ((int)get_local_id(d))
#define GROUP_ID(d) ((int)get_group_id(d))
#define LOCAL_SIZE(d) ((int)get_local_size(d))
#define NUM_GROUPS(d) ((int)get_num_groups(d))
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)

#define MULHI(a, b) mul_hi((uint)(a), (uint)(b))

#define EXPF(x) exp(x)
#define LOGF(x) log(x)
#define LOG1PF(x) log1p(x)
#define SQRTF(x) sqrt(x)
#define SINF(x) sin(x)
#define COSF(x) cos(x)
#define TANHF(x) tanh(x)
#define FABSF(x) fabs(x)
#define FMAXF(a, b) fmax(a, b)
#define FMINF(a, b) fmin(a, b)
#define FMAF(a, b, c) fma(a, b, c)

#endif
