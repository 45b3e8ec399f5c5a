namespace IlgpuVae.Kernels.Conformance;

/// <summary>The checks of the model-variant ops (column copies, one-hot labels, corruption, the score-function gradient).</summary>
public static partial class DeviceCheck
{
    /// <summary>A block of columns into the middle of wider rows: the columns around it must keep their values.</summary>
    private static DeviceCheckResult CopyColumns(CheckRun s)
    {
        const int rows = 41, sourceColumns = 30, destinationColumns = 27, count = 20;
        var rng = s.NextRandom();
        using var source = s.Put(CheckRun.Uniform(rng, rows * sourceColumns, -1f, 1f));
        using var destination = s.Put(CheckRun.Uniform(rng, rows * destinationColumns, -1f, 1f));
        s.Device.CopyColumns(source.D, rows, sourceColumns, 3, destination.D, destinationColumns, 5, count);
        s.Reference.CopyColumns(source.R, rows, sourceColumns, 3, destination.R, destinationColumns, 5, count);
        return s.Same("copy columns", destination, 0);
    }

    /// <summary>Ten classes after twenty columns of other values, as [z | onehot(y)] is laid out.</summary>
    private static DeviceCheckResult GatherOneHot(CheckRun s)
    {
        const int samples = 61, rows = 45, classes = 10, columns = 30;
        var rng = s.NextRandom();
        var labels = new byte[samples];
        for (int i = 0; i < samples; i++) labels[i] = (byte)rng.Next(classes);
        var indices = new int[rows];
        for (int i = 0; i < rows; i++) indices[i] = rng.Next(samples);
        using var dLabels = s.Put(labels, (byte)255);
        using var dIndices = s.Put(indices, -1);
        using var destination = s.Put(CheckRun.Uniform(rng, rows * columns, -1f, 1f));
        s.Device.GatherOneHot(dLabels.D, dIndices.D, rows, classes, destination.D, columns, columns - classes);
        s.Reference.GatherOneHot(dLabels.R, dIndices.R, rows, classes, destination.R, columns, columns - classes);
        return s.Same("gather one-hot", destination, 0);
    }

    /// <summary>A batch of 28 x 28 images (28 is no multiple of 3: downsampling meets cut blocks), at an element offset.</summary>
    private static DeviceCheckResult Corrupt(CheckRun s, Corruption corruption, double tolerance)
    {
        const int rows = 13, side = 28;
        var random = s.Source(step: 9, RandomStream.Corruption) with { Offset = 5 };
        using var clean = s.Put(CheckRun.Uniform(s.NextRandom(), rows * side * side, 0f, 1f));
        using var corrupted = s.Put(new float[rows * side * side]);
        s.Device.Corrupt(corruption, clean.D, rows, side, side, random, corrupted.D);
        s.Reference.Corrupt(corruption, clean.R, rows, side, side, random, corrupted.R);
        return s.Same($"corrupt {corruption}", corrupted, tolerance);
    }

    /// <summary>Losses of a VAE's scale (hundreds of nats), accumulated onto a KL gradient already there.</summary>
    private static DeviceCheckResult ScoreFunctionBackward(CheckRun s, ScoreBaseline baseline)
    {
        const int rows = 41, latent = 20;
        var rng = s.NextRandom();
        using var stats = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -3f, 2f));
        using var eps = s.Put(CheckRun.Uniform(rng, rows * latent, -3f, 3f));
        using var loss = s.Put(CheckRun.Uniform(rng, rows, 50f, 300f));
        using var kl = s.Put(CheckRun.Uniform(rng, rows, 0f, 30f));
        using var dstats = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -1f, 1f));
        s.Device.ScoreFunctionBackward(stats.D, eps.D, loss.D, kl.D, 0.5f, baseline, rows, latent, dstats.D);
        s.Reference.ScoreFunctionBackward(stats.R, eps.R, loss.R, kl.R, 0.5f, baseline, rows, latent, dstats.R);
        string name = baseline == ScoreBaseline.None ? "score function backward" : "score function backward leave-one-out";
        return s.Same(name, dstats, LossTolerance);
    }
}
