using System.Globalization;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Host;

/// <summary>
/// Training progress on the console: on a terminal a one-line progress bar redrawn in place, in a
/// batch job (output redirected) plain log lines. Never reads input.
/// </summary>
public sealed class ConsoleReporter(TextWriter output, bool isTerminal, bool quiet) : ITrainingReporter
{
    private const int BarWidth = 24;
    private int _barLength;

    public void Info(string line)
    {
        if (quiet) return;
        ClearBar();
        output.WriteLine(line);
    }

    public void Progress(TrainingProgress p)
    {
        if (quiet) return;
        string loss = p.RecentLoss.ToString("F2", CultureInfo.InvariantCulture);
        string rate = p.SamplesPerSecond.ToString("N0", CultureInfo.InvariantCulture);
        if (!isTerminal)
        {
            output.WriteLine($"epoch {p.Epoch}/{p.Epochs} step {p.StepInEpoch}/{p.StepsInEpoch} loss {loss} samples/s {rate}");
            return;
        }
        double fraction = (double)p.StepInEpoch / p.StepsInEpoch;
        int filled = (int)Math.Round(fraction * BarWidth);
        // The rate of the steps this process took (a resumed epoch's clock starts at ResumedAtStep).
        int done = p.StepInEpoch - p.ResumedAtStep, left = p.StepsInEpoch - p.StepInEpoch;
        double eta = done > 0 ? p.ElapsedSeconds * left / done : 0;
        string line = $"epoch {p.Epoch}/{p.Epochs} [{new string('#', filled)}{new string('.', BarWidth - filled)}] " +
            $"{p.StepInEpoch}/{p.StepsInEpoch} loss {loss} {rate} samples/s eta {FormatSeconds(eta)}";
        int width = TerminalWidth();
        if (line.Length > width - 1) line = line[..(width - 1)];
        output.Write("\r" + line.PadRight(Math.Max(_barLength, line.Length)));
        output.Flush();
        _barLength = line.Length;
    }

    public void Epoch(EpochResult r)
    {
        if (quiet) return;
        ClearBar();
        var c = CultureInfo.InvariantCulture;
        string test = r.TestLoss is { } t ? t.ToString("F3", c) : "n/a";
        string note = (r.Interrupted ? " (interrupted)" : r.Partial ? " (partial epoch)" : "")
            + (r.ResumedAtStep > 0 ? $" (resumed at step {r.ResumedAtStep} of the epoch)" : "");
        output.WriteLine($"epoch {r.Epoch} step {r.Step} train_loss {r.TrainLoss.ToString("F3", c)} test_loss {test} " +
            $"epoch_s {r.EpochSeconds.ToString("F2", c)} samples_per_s {r.SamplesPerSecond.ToString("F0", c)}{note}");
    }

    private void ClearBar()
    {
        if (_barLength == 0) return;
        output.Write("\r" + new string(' ', _barLength) + "\r");
        _barLength = 0;
    }

    private static int TerminalWidth()
    {
        try { return Console.WindowWidth > 20 ? Console.WindowWidth : 120; }
        catch (IOException) { return 120; }
        catch (PlatformNotSupportedException) { return 120; }
    }

    private static string FormatSeconds(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Min(seconds, 359999));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
    }
}
