using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Evaluation;
using IlgpuVae.Training.Loop;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae sample`: decoder means for z from the prior, as a PNG grid.</summary>
public sealed class SampleCommand : Command
{
    public override string Name => "sample";
    public override string Summary => "draw images from a trained model's prior into a PNG grid";

    public override string Description =>
        "Draws --count latent vectors z ~ N(0, I) (Philox, keyed by --seed) and writes the decoder's mean\n" +
        "images (sigmoid of the logits for a Bernoulli model) as a grayscale PNG grid. With the training\n" +
        "seed and --count 64 this redraws the run's samples.png. A conditional model draws the class of\n" +
        "--label: K draws --count images of class K; all (its default) draws one row of --columns images\n" +
        "per class, as the run's samples.png.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        new("--count", "N", "images to draw", "64"),
        new("--out", "FILE", "output PNG", "samples.png"),
        new("--columns", "N", "images per row of the grid", "8, or ceil(sqrt(count)) above 64"),
        new("--seed", "N", "seed of the latent draws", "1"),
        new("--label", "K|all", "conditional models: the class to draw, or all (a row per class)", "all"),
        new("--fidelity", "N", "conditional models: also draw N images of each class and report the share that a classifier " +
            "trained on --data's training images labels as that class, beside its accuracy on the real test images"),
        new("--classify", null, "also label the samples with a softmax regression trained on --data's training images and print the class histogram"),
        new("--data", "DIR", "directory of the IDX files (for --fidelity and --classify)", IdxDataSet.DefaultDirectory),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        int count = o.Int("--count", 64, min: 1, max: 1 << 16);
        int columns = o.Int("--columns", count <= 64 ? 8 : (int)Math.Ceiling(Math.Sqrt(count)), min: 1);
        ulong seed = o.ULong("--seed", 1);
        string outPath = SharedOptions.OutputPath(o.String("--out", "samples.png"));
        var model = SharedOptions.LoadModel(modelPath);
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);
        byte[] labels = Labels(o, model.Config, ref count, ref columns);

        using var accelerator = SharedOptions.OpenDevice(o);
        float[] images;
        if (model.Config.Kind == ModelKind.Gan)
        {
            // The generator's images G(z), drawn as a run's samples.png draws them.
            using var gan = new GanNetwork(accelerator, model.Config, Math.Min(count, 1024), model.Parameters);
            images = GanTrainer.Sample(gan, seed, count);
        }
        else
        {
            using var network = ModelKinds.Create(accelerator, model.Config, Math.Min(count, 1024), model.Parameters);
            images = ImageOutputs.SampleMeans(network, seed, count, labels);
        }
        ImageOutputs.WriteGrid(outPath, images, count, model.Config, Math.Min(columns, count));
        string which = labels.Length == 0 ? "" : o.String("--label", "all") == "all" ? $", {columns} of each class a row" : $" of class {labels[0]}";
        context.Out.WriteLine($"wrote {count} samples{which} of {model.Config.Describe()} to {outPath}");
        if (o.Flag("--classify"))
        {
            var data = LoadData(o, model.Config);
            int classes = Math.Max(2, data.TrainLabels.Concat(data.TestLabels).Max() + 1);
            var classifier = SoftmaxClassifier.Train(SoftmaxClassifier.ToFeatures(data.Train.Pixels.AsSpan(0, data.Train.Count * model.Config.Input)),
                data.TrainLabels, data.Train.Count, model.Config.Input, classes);
            WriteHistogram(context.Out, classifier.Predict(images, count), classes);
        }
        if (o.Int("--fidelity", 0, min: 1, max: 1 << 16) is > 0 and var perClass)
        {
            if (model.Config.Classes == 0) throw new UsageException($"option '--fidelity' is for conditional models; this is a {ModelKinds.Of(model.Config.Kind).Name} model");
            var data = LoadData(o, model.Config);
            using var many = ModelKinds.Create(accelerator, model.Config, 1024, model.Parameters);
            WriteFidelity(context.Out, ConditionalFidelity.Measure(many, data, perClass, seed));
        }
        return ExitCodes.Ok;
    }

    private static IdxDataSet LoadData(ParsedOptions o, VaeConfig config)
    {
        string dataDir = o.Path("--data", "a directory of IDX files") ?? IdxDataSet.DefaultDirectory;
        var data = IdxDataSet.Load(dataDir);
        if (data.Train.PixelsPerImage != config.Input)
            throw new DataSetException($"the images in '{dataDir}' are {data.Train.Rows}x{data.Train.Columns}, but the model takes " +
                $"{config.ImageHeight}x{config.ImageWidth}", dataDir);
        return data;
    }

    /// <summary>How the samples spread over the classes: a model that drops modes leaves some classes nearly empty.</summary>
    private static void WriteHistogram(TextWriter o, int[] predicted, int classes)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        var counts = new int[classes];
        foreach (int k in predicted) counts[k]++;
        double entropy = 0;
        foreach (int n in counts) if (n > 0) entropy -= (double)n / predicted.Length * Math.Log((double)n / predicted.Length);
        o.WriteLine($"the {predicted.Length} samples as a softmax regression trained on the real training images labels them:");
        for (int k = 0; k < classes; k++)
            o.WriteLine($"{k,5} {counts[k],7} {((double)counts[k] / predicted.Length).ToString("P1", c),7} {new string('#', (int)Math.Round(60.0 * counts[k] / predicted.Length))}");
        o.WriteLine($"class entropy {(entropy / Math.Log(classes)).ToString("F3", c)} of the uniform spread's 1 (a model that dropped classes scores less)");
    }

    private static void WriteFidelity(TextWriter o, ConditionalFidelityResult r)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        o.WriteLine($"conditional fidelity: {r.PerClass} samples of each class labelled by a softmax regression trained on the real training images");
        o.WriteLine($"{"class",5} {"samples labelled as it",23} {"real test images",17}");
        for (int k = 0; k < r.SampleAccuracy.Length; k++)
            o.WriteLine($"{k,5} {r.SampleAccuracy[k].ToString("P1", c),23} {r.TestAccuracy[k].ToString("P1", c),17}");
        o.WriteLine($"{"mean",5} {r.MeanSampleAccuracy.ToString("P1", c),23} {r.TestAccuracy.Average().ToString("P1", c),17}   (all real test images: {r.TestAccuracyOverall.ToString("P1", c)})");
    }

    /// <summary>The class of each image a conditional model draws (none for the others); --label all makes a row per class.</summary>
    private static byte[] Labels(ParsedOptions o, VaeConfig config, ref int count, ref int columns)
    {
        if (config.Classes == 0)
        {
            if (o.Has("--label")) throw new UsageException($"option '--label' is for conditional models; this is a {ModelKinds.Of(config.Kind).Name} model");
            return [];
        }
        string label = o.String("--label", "all");
        if (label == "all")
        {
            if (!o.Has("--columns")) columns = 8;
            count = config.Classes * columns;
            return TrainingRun.ClassRows(config.Classes, columns);
        }
        if (!int.TryParse(label, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) || k >= config.Classes)
            throw ParsedOptions.Bad("--label", label, $"a class 0..{config.Classes - 1} or all");
        return Enumerable.Repeat((byte)k, count).ToArray();
    }
}
