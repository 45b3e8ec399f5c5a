using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// Shared pieces of the suite: seeded inputs, guard-filled buffers and element-wise comparison against
/// double-precision references. Tolerances are written per element from the magnitudes involved, so a
/// GPU (other summation orders, other ulps of exp/log/tanh) meets them as well as the CPU does.
/// </summary>
public abstract partial class KernelConformance
{
    /// <summary>A value that no op produces from the inputs here: a guard cell still holding it was not written.</summary>
    protected const float Guard = -12345.678f;

    protected static float[] RandomFloats(int seed, int length, float min = -1f, float max = 1f)
    {
        var rng = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = min + (max - min) * (float)rng.NextDouble();
        return data;
    }

    protected static float[] Filled(int length, float value)
    {
        var data = new float[length];
        Array.Fill(data, value);
        return data;
    }

    protected DeviceBuffer<float> Upload(float[] data) => Acc.Upload<float>(data);

    protected float[] Download(DeviceView<float> view) => Acc.Download(view);

    /// <summary>
    /// A buffer of guard values with data placed at offset, so an op on the returned view that writes
    /// outside it, or reads a wrong offset, shows up.
    /// </summary>
    protected (DeviceBuffer<float> Buffer, DeviceView<float> View) UploadAtOffset(float[] data, int offset, int tail = 7)
    {
        var host = Filled(offset + data.Length + tail, Guard);
        data.CopyTo(host, offset);
        var buffer = Upload(host);
        return (buffer, buffer.Slice(offset, data.Length));
    }

    /// <summary>Asserts that every element of buffer outside [offset, offset + length) still holds the guard.</summary>
    protected void AssertGuardsIntact(DeviceBuffer<float> buffer, int offset, int length, string what)
    {
        var all = Download(buffer.View);
        for (int i = 0; i < all.Length; i++)
        {
            if (i >= offset && i < offset + length) continue;
            if (BitConverter.SingleToInt32Bits(all[i]) != BitConverter.SingleToInt32Bits(Guard))
                Assert.Fail($"{what}: element {i} outside the view [{offset}, {offset + length}) was overwritten with {all[i]:R}");
        }
    }

    /// <summary>Asserts |actual[i] - expected[i]| &lt;= tolerance(i) for every i; NaN never passes.</summary>
    protected static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, Func<int, double> tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        int failures = 0, first = -1;
        double firstError = 0, firstTolerance = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            double tol = tolerance(i);
            if (error <= tol) continue;
            if (failures++ == 0) { first = i; firstError = error; firstTolerance = tol; }
        }
        if (failures > 0)
            Assert.Fail($"{what}: {failures} of {expected.Length} elements out of tolerance; first at {first}: " +
                        $"expected {expected[first]:R}, got {actual[first]:R} (error {firstError:G3} > {firstTolerance:G3})");
    }

    /// <summary>Relative-plus-absolute tolerance around each expected value.</summary>
    protected static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what)
    {
        var copy = expected.ToArray();
        AssertClose(expected, actual, i => absolute + relative * Math.Abs(copy[i]), what);
    }

    protected static void AssertAllFinite(ReadOnlySpan<float> values, string what)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) Assert.Fail($"{what}: element {i} is {values[i]}");
    }

    protected static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }
}
