/*
 * gather.cl: a training batch from the device-resident uint8 data set: out[i, d] = data[idx[i], d] / 255,
 * optionally binarised with u(e) < p, u the Philox uniform of output element e (counter e / 4, word
 * e % 4). One work-item covers the four elements of one Philox block.
 */
#include "philox.h"

KERNEL void gather_batch(int rows, int features, int samples, int binarize,
    uint seedLo, uint seedHi, uint step, uint stream,
    GLOBAL const uchar* RESTRICT data, int dataOffset, GLOBAL const int* RESTRICT indices, int indicesOffset,
    GLOBAL float* RESTRICT output, int outputOffset)
{
    const int group = GLOBAL_ID(0);
    const int count = rows * features;
    const int first = group * 4;
    if (first >= count) return;
    philox_words w;
    w.w0 = 0u; w.w1 = 0u; w.w2 = 0u; w.w3 = 0u;
    if (binarize) w = philox_for_group((uint)group, seedLo, seedHi, step, stream);
    for (int lane = 0; lane < 4; lane++)
    {
        int e = first + lane;
        if (e >= count) break;
        int r = e / features, d = e - r * features;
        int index = indices[indicesOffset + r];
        float value;
        if (index < 0 || index >= samples)
        {
            /* The host owns index validity; an out-of-range row becomes NaN instead of a wild read. */
            value = 0.0f / 0.0f;
        }
        else
        {
            value = (float)data[dataOffset + index * features + d] * (1.0f / 255.0f);
            if (binarize) value = philox_uniform(philox_word(w, lane)) < value ? 1.0f : 0.0f;
        }
        output[outputOffset + e] = value;
    }
}
