using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Kernels.Conformance;

public static partial class DeviceCheck
{
    /// <summary>The device under check, the reference, and reproducible inputs derived from the seed.</summary>
    private sealed class CheckRun(Accelerator device, CpuAccelerator reference, ulong seed)
    {
        /// <summary>Odd offsets: a kernel that drops a view's offset, or assumes 16-byte alignment, shows up.</summary>
        public const int Front = 3, Back = 5;
        /// <summary>Fills the buffer around every operand; no op produces it from the inputs used here.</summary>
        public const float Guard = -7777.75f;

        private int _draws;

        public Accelerator Device { get; } = device;
        public CpuAccelerator Reference { get; } = reference;
        public ulong Seed { get; } = seed;

        /// <summary>A generator for the next check's inputs (each check its own, so adding checks keeps the others' inputs).</summary>
        public Random NextRandom() => new(unchecked((int)(Seed ^ (Seed >> 32)) * 31 + ++_draws));

        public RandomSource Source(uint step, uint stream) => new(Seed, step, stream);

        public static float[] Uniform(Random rng, int length, float min, float max)
        {
            var data = new float[length];
            for (int i = 0; i < length; i++) data[i] = min + (max - min) * (float)rng.NextDouble();
            return data;
        }

        public Operand<float> Put(float[] data) => Put(data, Guard);

        /// <summary>The same data on both accelerators, each inside a guard-filled buffer at offset Front.</summary>
        public Operand<T> Put<T>(T[] data, T guard) where T : unmanaged
        {
            var host = new T[Front + data.Length + Back];
            Array.Fill(host, guard);
            data.CopyTo(host, Front);
            var onDevice = Device.Upload<T>(host);
            try
            {
                return new Operand<T>(onDevice, Reference.Upload<T>(host), data.Length);
            }
            catch
            {
                onDevice.Dispose();
                throw;
            }
        }

        /// <summary>Compares the whole buffers (operand and guards) of the reference and the device.</summary>
        public DeviceCheckResult Same(string check, Operand<float> operand, double tolerance, double floor = 1.0)
        {
            float[] expected = Reference.Download(operand.ReferenceBuffer.View), actual = Device.Download(operand.DeviceBuffer.View);
            var result = Compare(check, expected, actual, tolerance, floor);
            if (result.Passed) return result with { Detail = $"{operand.Length} values, guards intact" };
            // Name the worst element by its index in the operand, or as a guard cell the op should not have touched.
            int index = MaxError(expected, actual, floor).Index - Front;
            string where = index < 0 || index >= operand.Length ? $"guard cell {index} written" : $"worst at [{index}]";
            int at = index + Front;
            return result with { Detail = FormattableString.Invariant($"{where}: expected {expected[at]:G9}, got {actual[at]:G9}") };
        }
    }

    private sealed class Operand<T>(DeviceBuffer<T> onDevice, DeviceBuffer<T> onReference, int length) : IDisposable where T : unmanaged
    {
        public DeviceBuffer<T> DeviceBuffer { get; } = onDevice;
        public DeviceBuffer<T> ReferenceBuffer { get; } = onReference;
        public int Length { get; } = length;

        /// <summary>The operand's view on the device.</summary>
        public DeviceView<T> D => DeviceBuffer.Slice(CheckRun.Front, Length);
        /// <summary>The operand's view on the reference.</summary>
        public DeviceView<T> R => ReferenceBuffer.Slice(CheckRun.Front, Length);

        public void Dispose()
        {
            DeviceBuffer.Dispose();
            ReferenceBuffer.Dispose();
        }
    }
}
