using IlgpuVae.Kernels;

namespace IlgpuVae.Training.Loop;

/// <summary>How a model is trained. The defaults are the PyTorch reference's (Adam 1e-3, batch 128, 10 epochs).</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 10;

    /// <summary>Stop after this many optimiser steps in total (the epoch in progress is still evaluated).</summary>
    public long? MaxSteps { get; init; }

    public int BatchSize { get; init; } = 128;

    public AdamSettings Adam { get; init; } = AdamSettings.Default;

    /// <summary>Dynamic binarisation: each training pixel becomes 1 with probability its intensity, redrawn every step.</summary>
    public bool Binarize { get; init; }

    /// <summary>
    /// A denoising VAE's corruption: the encoder sees a corrupted copy of each batch (noise drawn on the
    /// device, keyed by seed and step like every draw), the decoder is scored against the clean images.
    /// </summary>
    public Corruption Corruption { get; init; }

    /// <summary>How the encoder's gradient is estimated: the reparameterisation trick, or the score function.</summary>
    public IlgpuVae.Model.GradientEstimator Estimator { get; init; } = IlgpuVae.Model.GradientEstimator.Reparameterisation;

    /// <summary>
    /// KL warm-up: beta ramps linearly from 0 at step 0 to its value at this step (0: none). A remedy for
    /// posterior collapse; the test loss is always evaluated with the full beta.
    /// </summary>
    public long KlWarmupSteps { get; init; }

    /// <summary>Free bits: the KL floor per latent dimension, in nats, averaged over the batch (0: none).</summary>
    public float FreeBits { get; init; }

    /// <summary>A GAN's discriminator steps per generator step (Goodfellow et al.'s k).</summary>
    public int DiscriminatorSteps { get; init; } = 1;

    /// <summary>A GAN's generator loss.</summary>
    public IlgpuVae.Model.GanLoss GanLoss { get; init; } = IlgpuVae.Model.GanLoss.NonSaturating;

    /// <summary>Key of every random draw: initialisation, shuffles, eps, binarisation.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Rows per evaluation batch of the test loss.</summary>
    public int EvalBatch { get; init; } = 1000;

    /// <summary>Steps between loss read-backs for progress reports (a read-back waits for the device).</summary>
    public int ProgressEvery { get; init; } = 50;

    /// <summary>Throws an ArgumentException naming the first option out of range.</summary>
    public TrainingOptions Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be >= 1 (got {Epochs})");
        if (MaxSteps is < 1) throw new ArgumentException($"max steps must be >= 1 (got {MaxSteps})");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be >= 1 (got {BatchSize})");
        if (EvalBatch < 1) throw new ArgumentException($"eval batch must be >= 1 (got {EvalBatch})");
        if (!(FreeBits >= 0) || float.IsInfinity(FreeBits)) throw new ArgumentException($"the free-bits floor must be finite and >= 0 (got {FreeBits})");
        if (KlWarmupSteps < 0) throw new ArgumentException($"KL warm-up steps must be >= 0 (got {KlWarmupSteps})");
        if (DiscriminatorSteps < 1) throw new ArgumentException($"discriminator steps must be >= 1 (got {DiscriminatorSteps})");
        if (ProgressEvery < 1) throw new ArgumentException($"progress interval must be >= 1 (got {ProgressEvery})");
        if (!(Adam.LearningRate > 0) || float.IsInfinity(Adam.LearningRate)) throw new ArgumentException($"learning rate must be > 0 (got {Adam.LearningRate})");
        if (!(Adam.WeightDecay >= 0) || float.IsInfinity(Adam.WeightDecay)) throw new ArgumentException($"weight decay must be >= 0 (got {Adam.WeightDecay})");
        return this;
    }
}
