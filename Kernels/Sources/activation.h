/*
 * activation.h: the contract's activations (values of the Activation enum) and their derivatives as
 * functions of the forward output y, shared by the element-wise kernels and the GEMM epilogue.
 */
#ifndef IVAE_ACTIVATION_H
#define IVAE_ACTIVATION_H

#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_LEAKY_RELU 2
#define ACT_TANH 3
#define ACT_SIGMOID 4

/* Sigmoid without overflow for large |x|: exp is only ever taken of a non-positive number. */
DEVICE_FN float stable_sigmoid(float x)
{
    if (x >= 0.0f) return 1.0f / (1.0f + EXPF(-x));
    float e = EXPF(x);
    return e / (1.0f + e);
}

DEVICE_FN float activation_apply(int activation, float x, float slope)
{
    switch (activation)
    {
        case ACT_RELU: return x > 0.0f ? x : 0.0f;
        case ACT_LEAKY_RELU: return x > 0.0f ? x : slope * x;
        case ACT_TANH: return TANHF(x);
        case ACT_SIGMOID: return stable_sigmoid(x);
        default: return x;
    }
}

DEVICE_FN float activation_derivative(int activation, float y, float slope)
{
    switch (activation)
    {
        case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
        case ACT_LEAKY_RELU: return y > 0.0f ? 1.0f : slope;
        case ACT_TANH: return 1.0f - y * y;
        case ACT_SIGMOID: return y * (1.0f - y);
        default: return 1.0f;
    }
}

#endif
