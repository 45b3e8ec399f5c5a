using System.Globalization;
using System.Text;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Kernels.Conformance;

/// <summary>
/// One row of `ilgpu-vae check`: what was checked, whether it passed, the largest error found against
/// the reference and the tolerance it was held to, and a detail (the worst element, or what failed).
/// </summary>
public sealed record DeviceCheckResult(string Check, bool Passed, double MaxError, double Tolerance, string Detail);

/// <summary>
/// The conformance check of a device, what an administrator runs on a new node: every op of the
/// contract on fresh random inputs, compared with the managed CPU accelerator, plus the Philox
/// known-answer vectors and the device's Gaussian draws against <see cref="Philox.Normal"/>. Operands
/// sit at odd offsets inside guard-filled buffers and whole buffers are compared, so a kernel that
/// ignores a view's offset or writes past its end fails too. Works for every backend.
/// </summary>
public static partial class DeviceCheck
{
    /// <summary>Runs every check on device; never throws for a failing op (the row says what went wrong).</summary>
    public static IReadOnlyList<DeviceCheckResult> Run(Accelerator device, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(device);
        using var reference = new CpuAccelerator();
        var run = new CheckRun(device, reference, seed);
        var results = new List<DeviceCheckResult>();
        foreach (var (name, tolerance, check) in Checks(run))
        {
            try
            {
                results.Add(check());
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                results.Add(new DeviceCheckResult(name, false, double.NaN, tolerance, $"{e.GetType().Name}: {FirstLine(e.Message)}"));
            }
        }
        return results;
    }

    /// <summary>
    /// The error measure of every check: per element |actual - expected| / max(floor, |expected|), i.e.
    /// relative for large values and absolute below floor. NaN or infinity where the reference is
    /// finite, or a length mismatch, is an infinite error.
    /// </summary>
    public static (double MaxError, int Index) MaxError(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double floor = 1.0)
    {
        if (expected.Length != actual.Length) return (double.PositiveInfinity, Math.Min(expected.Length, actual.Length));
        double worst = 0;
        int index = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            double error;
            if (e.Equals(a)) error = 0; // Equals, unlike ==, holds for NaN: a NaN the reference also has is no error
            else if (!float.IsFinite(a) || !float.IsFinite(e)) error = double.PositiveInfinity;
            else error = Math.Abs((double)a - e) / Math.Max(floor, Math.Abs((double)e));
            if (error > worst || index < 0) { worst = error; index = i; }
        }
        return (worst, Math.Max(index, 0));
    }

    /// <summary>A result row from reference and device values: passed when the max error is within tolerance.</summary>
    public static DeviceCheckResult Compare(string check, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, double floor = 1.0)
    {
        var (error, index) = MaxError(expected, actual, floor);
        bool passed = error <= tolerance;
        string detail = expected.Length != actual.Length
            ? $"{actual.Length} values, expected {expected.Length}"
            : expected.Length == 0 ? "no values"
            : passed ? $"{expected.Length} values"
            : $"worst at [{index}]: expected {expected[index].ToString("G9", CultureInfo.InvariantCulture)}, got {actual[index].ToString("G9", CultureInfo.InvariantCulture)}";
        return new DeviceCheckResult(check, passed, error, tolerance, detail);
    }

    /// <summary>Several outputs of one op as one row: the worst of them decides, and is named.</summary>
    public static DeviceCheckResult Combine(string check, params DeviceCheckResult[] parts)
    {
        var failed = parts.Where(p => !p.Passed).ToArray();
        var worst = failed.Length > 0
            ? failed.OrderByDescending(p => double.IsNaN(p.MaxError) ? double.PositiveInfinity : p.MaxError / p.Tolerance).First()
            : parts.OrderByDescending(p => p.Tolerance > 0 ? p.MaxError / p.Tolerance : p.MaxError).First();
        string detail = failed.Length > 0
            ? $"{worst.Check}: {worst.Detail}"
            : $"{string.Join(", ", parts.Select(p => p.Check))} within tolerance";
        return new DeviceCheckResult(check, failed.Length == 0, worst.MaxError, worst.Tolerance, detail);
    }

    /// <summary>The results as an aligned text table with a closing "N passed, N failed" line.</summary>
    public static string FormatTable(IReadOnlyList<DeviceCheckResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        static string Number(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0e+00", CultureInfo.InvariantCulture);
        var rows = results.Select(r => new[] { r.Check, r.Passed ? "PASS" : "FAIL", Number(r.MaxError), Number(r.Tolerance), r.Detail }).ToList();
        string[] header = ["check", "result", "max error", "tolerance", "detail"];
        int[] widths = Enumerable.Range(0, 4).Select(c => rows.Select(r => r[c].Length).Append(header[c].Length).Max()).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells)
        {
            for (int c = 0; c < 4; c++)
                text.Append(c is 2 or 3 ? cells[c].PadLeft(widths[c]) : cells[c].PadRight(widths[c])).Append("  ");
            text.Append(cells[4]).Append('\n');
        }
        Line(header);
        text.Append(new string('-', widths.Sum() + 2 * 4 + header[4].Length)).Append('\n');
        foreach (var row in rows) Line(row);
        int passed = results.Count(r => r.Passed);
        text.Append(CultureInfo.InvariantCulture, $"{passed} passed, {results.Count - passed} failed\n");
        return text.ToString();
    }

    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n');
        return newline < 0 ? message : message[..newline];
    }
}
