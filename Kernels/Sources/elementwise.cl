/*
 * elementwise.cl: activations forward and backward, and fill. One work-item an element; the host
 * rounds the global size up to a whole work-group, so every kernel checks its bound.
 */
#include "activation.h"

KERNEL void activation_forward(int count, int activation, float slope,
    GLOBAL const float* x, int xOffset, GLOBAL float* y, int yOffset)
{
    const int e = GLOBAL_ID(0);
    if (e >= count) return;
    /* x and y may be the same buffer (in-place), so neither pointer is RESTRICT. */
    y[yOffset + e] = activation_apply(activation, x[xOffset + e], slope);
}

KERNEL void activation_backward(int count, int activation, float slope,
    GLOBAL const float* y, int yOffset, GLOBAL const float* dy, int dyOffset, GLOBAL float* dx, int dxOffset)
{
    const int e = GLOBAL_ID(0);
    if (e >= count) return;
    dx[dxOffset + e] = dy[dyOffset + e] * activation_derivative(activation, y[yOffset + e], slope);
}

KERNEL void fill_values(int count, float value, GLOBAL float* RESTRICT target, int targetOffset)
{
    const int e = GLOBAL_ID(0);
    if (e >= count) return;
    target[targetOffset + e] = value;
}
