/*
 * dialect.cl: one kernel that uses every macro of the shared dialect (see prelude_opencl.h), so that
 * each macro is compiled by both OpenCL and NVRTC and its result checked against .NET on a device.
 * Not used by training.
 *
 * Per work-item g (1-D launch of DIALECT_WG work-items a group), with x = input[g]:
 *   values[g * DIALECT_VALUES + ...] = { input of the next work-item in the group (local memory and
 *     barrier), exp x, log(|x| + 1), log1p |x|, sqrt |x|, sin x, cos x, tanh x, max(x, 0.25),
 *     min(x, 0.25), fma(x, 2, x * x), dialect_table[g % 4] }
 *   words[g * DIALECT_WORDS + ...] = { mulhi(0xD2511F53, g * 2654435761), global id, local id,
 *     group id, local size, group count, (uchar)(g * 7) }
 */
#ifndef DIALECT_WG
#define DIALECT_WG 64
#endif

#define DIALECT_VALUES 12
#define DIALECT_WORDS 7

CONSTANT float dialect_table[4] = { 0.5f, 1.5f, -2.5f, 3.25f };

DEVICE_FN float dialect_square(float x) { return x * x; }

KERNEL void dialect_probe(int count, GLOBAL const float* RESTRICT input, int inputOffset,
    GLOBAL float* RESTRICT values, int valuesOffset, GLOBAL uint* RESTRICT words, int wordsOffset)
{
    LOCAL float share[DIALECT_WG];
    const int g = GLOBAL_ID(0), l = LOCAL_ID(0);
    const float x = g < count ? input[inputOffset + g] : 0.0f;
    share[l] = x;
    BARRIER();
    if (g >= count) return;
    const float neighbour = share[(l + 1) % LOCAL_SIZE(0)];

    GLOBAL float* v = values + valuesOffset + g * DIALECT_VALUES;
    v[0] = neighbour;
    v[1] = EXPF(x);
    v[2] = LOGF(FABSF(x) + 1.0f);
    v[3] = LOG1PF(FABSF(x));
    v[4] = SQRTF(FABSF(x));
    v[5] = SINF(x);
    v[6] = COSF(x);
    v[7] = TANHF(x);
    v[8] = FMAXF(x, 0.25f);
    v[9] = FMINF(x, 0.25f);
    v[10] = FMAF(x, 2.0f, dialect_square(x));
    v[11] = dialect_table[g % 4];

    GLOBAL uint* w = words + wordsOffset + g * DIALECT_WORDS;
    uchar small = (uchar)(g * 7);
    w[0] = MULHI(0xD2511F53u, (uint)g * 2654435761u);
    w[1] = (uint)GLOBAL_ID(0);
    w[2] = (uint)LOCAL_ID(0);
    w[3] = (uint)GROUP_ID(0);
    w[4] = (uint)LOCAL_SIZE(0);
    w[5] = (uint)NUM_GROUPS(0);
    w[6] = (uint)small;
}
