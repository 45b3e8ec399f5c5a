/*
 * sampling.cl: the reparameterisation z = mu + exp(logvar / 2) * eps fused with the Gaussian draw, its
 * backward, and the raw Philox block (known-answer checks of a device).
 *
 * Element e = i * latent + j takes normal e % 4 of Philox block e / 4, so one work-item draws one block
 * and serves its four elements: the generator runs once per four outputs, as on the CPU reference.
 */
#include "philox.h"

KERNEL void sample_latent(int rows, int latent, uint seedLo, uint seedHi, uint step, uint stream,
    GLOBAL const float* RESTRICT stats, int statsOffset, GLOBAL float* RESTRICT eps, int epsOffset,
    GLOBAL float* RESTRICT z, int zOffset)
{
    const int group = GLOBAL_ID(0);
    const int count = rows * latent;
    const int first = group * 4;
    if (first >= count) return;
    philox_words w = philox_for_group((uint)group, seedLo, seedHi, step, stream);
    for (int lane = 0; lane < 4; lane++)
    {
        int e = first + lane;
        if (e >= count) break;
        float normal = lane < 2 ? philox_box_muller(w.w0, w.w1, lane & 1) : philox_box_muller(w.w2, w.w3, lane & 1);
        int i = e / latent, j = e - i * latent;
        float mu = stats[statsOffset + i * 2 * latent + j];
        float logvar = stats[statsOffset + i * 2 * latent + latent + j];
        eps[epsOffset + e] = normal;
        z[zOffset + e] = mu + EXPF(0.5f * logvar) * normal;
    }
}

/* Accumulates into dstats (the loss kernel wrote the KL gradient there first). */
KERNEL void sample_latent_backward(int rows, int latent,
    GLOBAL const float* RESTRICT stats, int statsOffset, GLOBAL const float* RESTRICT eps, int epsOffset,
    GLOBAL const float* RESTRICT dz, int dzOffset, GLOBAL float* RESTRICT dstats, int dstatsOffset)
{
    const int e = GLOBAL_ID(0);
    if (e >= rows * latent) return;
    int i = e / latent, j = e - i * latent;
    int mu = i * 2 * latent + j, logvar = mu + latent;
    float g = dz[dzOffset + e];
    dstats[dstatsOffset + mu] += g;
    dstats[dstatsOffset + logvar] += g * eps[epsOffset + e] * 0.5f * EXPF(0.5f * stats[statsOffset + logvar]);
}

/* out[4q .. 4q+3] = Philox4x32-10(counter[4q .. 4q+3], key[2q .. 2q+1]). */
KERNEL void philox_blocks(int count, GLOBAL const uint* RESTRICT counters, int countersOffset,
    GLOBAL const uint* RESTRICT keys, int keysOffset, GLOBAL uint* RESTRICT output, int outputOffset)
{
    const int q = GLOBAL_ID(0);
    if (q >= count) return;
    GLOBAL const uint* c = counters + countersOffset + 4 * q;
    GLOBAL const uint* k = keys + keysOffset + 2 * q;
    philox_words w = philox4x32_10(c[0], c[1], c[2], c[3], k[0], k[1]);
    GLOBAL uint* o = output + outputOffset + 4 * q;
    o[0] = w.w0; o[1] = w.w1; o[2] = w.w2; o[3] = w.w3;
}
