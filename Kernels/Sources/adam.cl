/*
 * adam.cl: one Adam / AdamW step over the flat parameter buffer, in PyTorch's order:
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= stepSize * m / (sqrt(v) / sqrtBc2 + eps), with
 * stepSize = lr / (1 - b1^t) and sqrtBc2 = sqrt(1 - b2^t) computed once on the host. Weight decay is
 * added to the gradient (Adam) or applied to the parameter (AdamW, decoupled).
 */
KERNEL void adam_step(int count, float learningRate, float beta1, float beta2, float epsilon,
    float weightDecay, int decoupled, float stepSize, float sqrtBc2,
    GLOBAL float* RESTRICT parameters, int parametersOffset, GLOBAL const float* RESTRICT gradients, int gradientsOffset,
    GLOBAL float* RESTRICT m, int mOffset, GLOBAL float* RESTRICT v, int vOffset)
{
    const int e = GLOBAL_ID(0);
    if (e >= count) return;
    float p = parameters[parametersOffset + e];
    float g = gradients[gradientsOffset + e];
    if (weightDecay != 0.0f)
    {
        if (decoupled) p *= 1.0f - learningRate * weightDecay;
        else g += weightDecay * p;
    }
    float mNew = beta1 * m[mOffset + e] + (1.0f - beta1) * g;
    float vNew = beta2 * v[vOffset + e] + (1.0f - beta2) * g * g;
    m[mOffset + e] = mNew;
    v[vOffset + e] = vNew;
    parameters[parametersOffset + e] = p - stepSize * mNew / (SQRTF(vNew) / sqrtBc2 + epsilon);
}
