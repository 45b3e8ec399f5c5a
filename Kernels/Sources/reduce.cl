/*
 * reduce.cl: the device-side sums: ReduceSum (one work-group; Kahan-compensated per work-item so a
 * long vector keeps float accuracy, then a tree in local memory) and the bias gradient (column sums:
 * BIAS_WG_X columns a work-group, BIAS_WG_Y work-items sharing each column's rows).
 */
#ifndef REDUCE_WG
#define REDUCE_WG 256
#endif
#ifndef BIAS_WG_X
#define BIAS_WG_X 16
#endif
#ifndef BIAS_WG_Y
#define BIAS_WG_Y 16
#endif

KERNEL void reduce_sum(int count, GLOBAL const float* RESTRICT values, int valuesOffset,
    GLOBAL float* RESTRICT result, int resultOffset)
{
    LOCAL float share[REDUCE_WG];
    const int t = LOCAL_ID(0);
    float sum = 0.0f, compensation = 0.0f;
    for (int e = t; e < count; e += REDUCE_WG)
    {
        float y = values[valuesOffset + e] - compensation;
        float s = sum + y;
        compensation = (s - sum) - y;
        sum = s;
    }
    share[t] = sum;
    BARRIER();
    for (int stride = REDUCE_WG / 2; stride > 0; stride >>= 1)
    {
        if (t < stride) share[t] += share[t + stride];
        BARRIER();
    }
    if (t == 0) result[resultOffset] = share[0];
}

KERNEL void bias_gradient(int rows, int cols, GLOBAL const float* RESTRICT dy, int dyOffset,
    GLOBAL float* RESTRICT dbias, int dbiasOffset)
{
    LOCAL float share[BIAS_WG_Y][BIAS_WG_X + 1];
    const int tx = LOCAL_ID(0), ty = LOCAL_ID(1);
    const int j = GROUP_ID(0) * BIAS_WG_X + tx;
    float sum = 0.0f;
    if (j < cols)
        for (int i = ty; i < rows; i += BIAS_WG_Y) sum += dy[dyOffset + i * cols + j];
    share[ty][tx] = sum;
    BARRIER();
    if (ty == 0 && j < cols)
    {
        float total = 0.0f;
        for (int r = 0; r < BIAS_WG_Y; r++) total += share[r][tx];
        dbias[dbiasOffset + j] = total;
    }
}
