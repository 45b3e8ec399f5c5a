namespace IlgpuVae.Kernels;

/// <summary>Whether a GEMM operand is used as stored (N) or transposed (T). Matrices are row-major.</summary>
public enum Transpose { N = 0, T = 1 }

/// <summary>Element-wise activations of the contract. The numeric values are shared with the kernel sources.</summary>
public enum Activation { Identity = 0, Relu = 1, LeakyRelu = 2, Tanh = 3, Sigmoid = 4 }

/// <summary>Decoder likelihood p(x|z). The numeric values are shared with the kernel sources.</summary>
public enum Likelihood { Bernoulli = 0, Gaussian = 1 }

/// <summary>The accelerator families.</summary>
public enum BackendKind { Cpu, OpenCL, Cuda, IlgpuCpu }

/// <summary>
/// Philox stream numbers: the third counter word, so that the different random draws of one step never
/// share a counter. Fixed forever: changing them changes every trained model's numbers.
/// </summary>
public static class RandomStream
{
    public const uint Latent = 0;      // eps of the reparameterisation during training
    public const uint Binarize = 1;    // dynamic binarisation of a training batch
    public const uint Prior = 2;       // z ~ N(0, I) for samples.png and `sample`
    public const uint Evaluation = 3;  // the one z sample per test image of the test loss
    public const uint ImportanceSampling = 4;  // the K samples z ~ q(z|x) of `evaluate` (step = image index)
    public const uint ImportanceBinarize = 5;  // the one binarisation of the test images that `evaluate` uses
    public const uint Corruption = 6;          // the noise of a denoising VAE's corrupted input
    public const uint GradientVariance = 7;    // the eps draws of `gradvar` (step = draw index)
    public const uint GanNoise = 8;            // a GAN's z: the discriminator step's at elements 0.., the generator step's at 2^31..
}
