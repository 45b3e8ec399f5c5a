using System.Globalization;
using System.Text.Json;
using ScottPlot;

namespace IlgpuVae.Training.Outputs;

/// <summary>One line of a loss chart: a label and its points (x in epochs, y the loss).</summary>
public sealed record LossSeries(string Label, IReadOnlyList<double> Epochs, IReadOnlyList<double> Values);

/// <summary>The losses of a run by epoch, as its metrics.jsonl holds them, ready to draw.</summary>
public sealed record LossCurves(string Title, string YLabel, IReadOnlyList<LossSeries> Series)
{
    /// <summary>The epochs the curves have a point at (x values, in order).</summary>
    public IReadOnlyList<double> Epochs => Series.SelectMany(s => s.Epochs).Distinct().Order().ToArray();
}

/// <summary>
/// loss.png: the train and test loss of every epoch of a run as a line chart, drawn from the epoch lines
/// of the run's metrics.jsonl, so a resumed run's chart covers the whole run and is the chart of the
/// run that never stopped (the same lines, the same bytes). A GAN's epoch line holds the discriminator's
/// losses (train_loss, test_loss) and the generator's (extra.g_loss): three lines, named so.
/// </summary>
public static class LossPlot
{
    public const string FileName = "loss.png";

    /// <summary>
    /// The curves of a metrics.jsonl. An epoch that has several lines (stopped by a step limit or a
    /// signal, then resumed) is drawn from its last: the numbers of the whole epoch. A partial epoch
    /// (a run stopped by --max-steps inside it) stands at its share of the epoch: epoch 3 stopped after
    /// a quarter of its steps is at x = 2.25. Lines that do not parse (a torn last line) are skipped.
    /// </summary>
    public static LossCurves Read(string metricsPath)
    {
        string kind = "mlp";
        double beta = 1;
        long stepsPerEpoch = 0;
        var epochs = new SortedDictionary<int, EpochPoint>();
        foreach (string line in File.ReadLines(metricsPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument document;
            try { document = JsonDocument.Parse(line); }
            catch (JsonException) { continue; }
            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type)) continue;
                switch (type.GetString())
                {
                    case "run":
                        if (root.TryGetProperty("config", out var config))
                        {
                            kind = String(config, "kind") ?? kind;
                            beta = Number(config, "beta") ?? beta;
                        }
                        if (root.TryGetProperty("training", out var training)) stepsPerEpoch = (long)(Number(training, "steps_per_epoch") ?? 0);
                        break;
                    case "epoch" when Number(root, "epoch") is { } e:
                        double? gLoss = root.TryGetProperty("extra", out var extra) && extra.ValueKind == JsonValueKind.Object ? Number(extra, "g_loss") : null;
                        epochs[(int)e] = new EpochPoint((int)e, (long)(Number(root, "steps") ?? 0), Number(root, "train_loss"), Number(root, "test_loss"), gLoss);
                        break;
                }
            }
        }

        double X(EpochPoint p) => stepsPerEpoch > 0 && p.Steps < stepsPerEpoch ? p.Epoch - 1 + (double)p.Steps / stepsPerEpoch : p.Epoch;
        LossSeries Series(string label, Func<EpochPoint, double?> value)
        {
            var points = epochs.Values.Where(p => value(p) is { } v && double.IsFinite(v)).ToArray();
            return new LossSeries(label, points.Select(X).ToArray(), points.Select(p => value(p)!.Value).ToArray());
        }

        if (kind == "gan")
            return new LossCurves("GAN losses per epoch", "loss (nats)",
                [Series("discriminator, train", p => p.Train), Series("discriminator, test", p => p.Test), Series("generator, train", p => p.Generator)]);
        string y = beta == 1 ? "negative ELBO (nats per image)"
            : $"reconstruction + {beta.ToString("G4", CultureInfo.InvariantCulture)} x KL (nats per image)";
        return new LossCurves($"{kind} VAE: loss per epoch", y, [Series("train", p => p.Train), Series("test", p => p.Test)]);
    }

    /// <summary>The chart of the curves as PNG bytes; the same curves give the same bytes.</summary>
    public static byte[] Render(LossCurves curves) => LineCharts.Png(Chart(curves));

    /// <summary>Draws the chart of a metrics.jsonl into path, replacing it atomically.</summary>
    public static void Write(string metricsPath, string path) => LineCharts.WritePng(path, Chart(Read(metricsPath)));

    private static Plot Chart(LossCurves curves)
    {
        var plot = LineCharts.Create(curves.Title, "epoch", curves.YLabel);
        foreach (var series in curves.Series)
        {
            if (series.Epochs.Count == 0) continue;
            var scatter = plot.Add.Scatter(series.Epochs.ToArray(), series.Values.ToArray());
            scatter.LegendText = series.Label;
            scatter.LineWidth = 2;
            scatter.MarkerSize = series.Epochs.Count <= 50 ? 6 : 0;
        }
        var xs = curves.Epochs;
        // Whole epochs get whole ticks; a run of less than two epochs shows its fractions.
        if (xs.Count > 0 && xs[^1] >= 2)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.SetLimitsX(0, xs.Count > 0 ? Math.Max(1, xs[^1]) * 1.02 : 1);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private sealed record EpochPoint(int Epoch, long Steps, double? Train, double? Test, double? Generator);

    private static double? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
