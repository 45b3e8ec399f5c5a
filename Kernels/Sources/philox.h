/*
 * philox.h: Philox4x32-10 (Salmon et al., SC 2011) and the conversions of Kernels/Philox.cs, which is
 * the reference: the same (key, counter) must give bit-identical words on every backend, and the same
 * uniforms and normals up to the last ulp of the math library.
 */
#ifndef IVAE_PHILOX_H
#define IVAE_PHILOX_H

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

typedef struct { uint w0; uint w1; uint w2; uint w3; } philox_words;

DEVICE_FN philox_words philox4x32_10(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
{
    for (int round = 0; round < 10; round++)
    {
        uint hi0 = MULHI(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        uint hi1 = MULHI(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        uint n0 = hi1 ^ c1 ^ k0;
        uint n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    philox_words out;
    out.w0 = c0; out.w1 = c1; out.w2 = c2; out.w3 = c3;
    return out;
}

/* The contract's counter: (element group, step, stream, 0); key: the seed's two halves. */
DEVICE_FN philox_words philox_for_group(uint group, uint seedLo, uint seedHi, uint step, uint stream)
{
    return philox4x32_10(group, step, stream, 0u, seedLo, seedHi);
}

/* A uniform in (0, 1): ((w >> 8) + 0.5) / 2^24, exact in float. */
DEVICE_FN float philox_uniform(uint word)
{
    return ((float)(word >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

DEVICE_FN uint philox_word(philox_words w, int lane)
{
    return lane == 0 ? w.w0 : lane == 1 ? w.w1 : lane == 2 ? w.w2 : w.w3;
}

/* Box-Muller of one word pair; cosine branch for the even element, sine branch for the odd one. */
DEVICE_FN float philox_box_muller(uint wordA, uint wordB, int sineBranch)
{
    float r = SQRTF(-2.0f * LOGF(philox_uniform(wordA)));
    float theta = 6.28318530717958647692f * philox_uniform(wordB);
    return sineBranch ? r * SINF(theta) : r * COSF(theta);
}

#endif
