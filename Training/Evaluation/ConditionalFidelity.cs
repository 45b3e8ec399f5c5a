using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Training.Evaluation;

/// <summary>
/// A conditional model's samples of class K against a classifier trained on the real training set: the
/// share labelled K, per class, beside the classifier's accuracy on the real test images of each class
/// (what a perfect generator of that class would score).
/// </summary>
public sealed record ConditionalFidelityResult(int PerClass, double[] SampleAccuracy, double[] TestAccuracy, double TestAccuracyOverall)
{
    public double MeanSampleAccuracy => SampleAccuracy.Average();
}

public static class ConditionalFidelity
{
    /// <summary>
    /// Trains the softmax-regression classifier on data's training images, draws perClass decoder mean
    /// images of every class (z ~ N(0, I) from seed, as `sample` draws them) and classifies them.
    /// </summary>
    public static ConditionalFidelityResult Measure(IVaeModel network, IdxDataSet data, int perClass, ulong seed)
    {
        var config = network.Config;
        if (config.Classes == 0) throw new ArgumentException($"a {ModelKinds.Of(config.Kind).Name} model draws no classes: fidelity is for conditional models");
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        var classifier = SoftmaxClassifier.Train(SoftmaxClassifier.ToFeatures(data.Train.Pixels.AsSpan(0, data.Train.Count * config.Input)),
            data.TrainLabels, data.Train.Count, config.Input, config.Classes);
        var test = SoftmaxClassifier.ToFeatures(data.Test.Pixels.AsSpan(0, data.Test.Count * config.Input));

        byte[] labels = Loop.TrainingRun.ClassRows(config.Classes, perClass);
        float[] samples = ImageOutputs.SampleMeans(network, seed, labels.Length, labels);
        return new ConditionalFidelityResult(perClass,
            classifier.AccuracyPerClass(samples, labels, labels.Length),
            classifier.AccuracyPerClass(test, data.TestLabels, data.Test.Count),
            classifier.Accuracy(test, data.TestLabels, data.Test.Count));
    }
}
