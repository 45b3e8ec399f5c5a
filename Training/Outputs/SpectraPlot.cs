using System.Globalization;
using IlgpuVae.Training.Evaluation;
using ScottPlot;

namespace IlgpuVae.Training.Outputs;

/// <summary>
/// The singular value spectra of the decoder's Jacobian (the jacobian command's picture): the index of
/// each singular value (1 = the largest) against its value on a log scale, one line per point, and the
/// tolerance below which a value does not count towards the rank, dashed.
/// </summary>
public static class SpectraPlot
{
    /// <summary>Values below this share of the largest are drawn at it (a log scale has no zero).</summary>
    public const double Floor = 1e-8;

    public static byte[] Render(DecoderJacobianResult result, string title) => LineCharts.Png(Chart(result, title));

    public static void Write(string path, DecoderJacobianResult result, string title) => LineCharts.WritePng(path, Chart(result, title));

    private static Plot Chart(DecoderJacobianResult result, string title)
    {
        var c = CultureInfo.InvariantCulture;
        var plot = LineCharts.Create(title, "singular value index (1 = largest)", "singular value (log scale)");
        double largest = result.Points.Count == 0 ? 1 : Math.Max(result.Points.Max(p => p.Largest), double.Epsilon);
        double floor = Math.Log10(largest * Floor);
        foreach (var point in result.Points)
        {
            var s = point.SingularValues;
            double[] xs = Enumerable.Range(1, s.Length).Select(i => (double)i).ToArray();
            double[] ys = s.Select(v => v > 0 ? Math.Max(Math.Log10(v), floor) : floor).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LineWidth = 1.5f;
            line.MarkerSize = s.Length <= 64 ? 4 : 0;
        }
        if (result.Points.Count > 0 && result.Tolerance > 0)
        {
            // The rank's threshold is relative to each point's largest value: drawn for the median point.
            double median = result.Points.Select(p => p.Largest).Order().ElementAt(result.Points.Count / 2);
            if (median > 0)
            {
                var threshold = plot.Add.HorizontalLine(Math.Max(Math.Log10(result.Tolerance * median), floor), 1, Colors.Gray, LinePattern.Dashed);
                threshold.LegendText = $"{result.Tolerance.ToString("G3", c)} x the median largest value (rank threshold)";
                plot.ShowLegend(Alignment.UpperRight);
            }
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = y => "1e" + Math.Round(y).ToString(c),
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        };
        if (result.Latent <= 40) plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }
}
