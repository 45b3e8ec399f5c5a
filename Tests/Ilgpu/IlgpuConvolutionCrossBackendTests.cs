using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The convolution kernels on ILGPU's CPU accelerator beside the CPU backend, on the same inputs:
/// Im2Col moves the same values, Col2Im adds the same terms in the same order (kh, then kw ascending)
/// and BiasActivation makes the same addition and, for the piecewise-linear activations, the same
/// selection, so all give the same bits. Tanh and sigmoid run .NET's MathF on ILGPU and TensorPrimitives'
/// vectorised functions on the CPU backend (as ActivationForward does on each), which near 0 are
/// accurate to about an ulp of 1 rather than of the result: the two agree to 1e-7 there, to a few ulps elsewhere.
/// </summary>
[TestClass]
public sealed class IlgpuConvolutionCrossBackendTests
{
    [TestMethod]
    [DataRow(2, 5, 7, 3, 3, 2, 1)]
    [DataRow(3, 28, 28, 1, 4, 2, 1)]   // the encoder's first layer and the decoder's last
    [DataRow(2, 14, 14, 32, 4, 2, 1)]  // the second and the first transposed one
    [DataRow(2, 6, 5, 9, 3, 1, 1)]     // 9 channels: the CPU backend's vector adds and their tail
    [DataRow(1, 8, 5, 3, 2, 3, 0)]
    public void CpuAndIlgpuCpuIm2ColAndCol2ImAreBitIdentical(int images, int height, int width, int channels, int kernel, int stride, int padding)
    {
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        var rng = new Random(71 + kernel);
        var x = Enumerable.Range(0, images * height * width * channels).Select(_ => 4f * rng.NextSingle() - 2f).ToArray();
        var y = Enumerable.Range(0, images * outHeight * outWidth * kernel * kernel * channels).Select(_ => 4f * rng.NextSingle() - 2f).ToArray();
        (float[] Columns, float[] Image) Run(Accelerator acc)
        {
            using (acc)
            {
                using var dx = acc.Upload<float>(x);
                using var dy = acc.Upload<float>(y);
                using var columns = acc.Allocate<float>(y.Length);
                using var image = acc.Allocate<float>(x.Length);
                acc.Im2Col(dx, images, height, width, channels, kernel, stride, padding, columns);
                acc.Col2Im(dy, images, height, width, channels, kernel, stride, padding, image);
                return (acc.Download(columns.View), acc.Download(image.View));
            }
        }
        var cpu = Run(new CpuAccelerator());
        var ilgpu = Run(IlgpuAccelerator.CreateCpu());
        AssertSameBits(cpu.Columns, ilgpu.Columns, "im2col");
        AssertSameBits(cpu.Image, ilgpu.Image, "col2im");
    }

    [TestMethod]
    [DataRow(Activation.Identity)]
    [DataRow(Activation.Relu)]
    [DataRow(Activation.LeakyRelu)]
    [DataRow(Activation.Tanh)]
    [DataRow(Activation.Sigmoid)]
    public void CpuAndIlgpuCpuBiasActivationAgree(Activation activation)
    {
        const int rows = 2 * 14 * 14, columns = 32;
        var rng = new Random(73);
        var values = Enumerable.Range(0, rows * columns).Select(_ => 10f * rng.NextSingle() - 5f).ToArray();
        var bias = Enumerable.Range(0, columns).Select(_ => 2f * rng.NextSingle() - 1f).ToArray();
        float[] Run(Accelerator acc)
        {
            using (acc)
            {
                using var v = acc.Upload<float>(values);
                using var b = acc.Upload<float>(bias);
                acc.BiasActivation(v, rows, columns, b, activation, 0.05f);
                return acc.Download(v.View);
            }
        }
        var cpu = Run(new CpuAccelerator());
        var ilgpu = Run(IlgpuAccelerator.CreateCpu());
        if (activation is Activation.Tanh or Activation.Sigmoid)
        {
            for (int i = 0; i < cpu.Length; i++)
                Assert.AreEqual(cpu[i], ilgpu[i], 5e-7f * Math.Abs(cpu[i]) + 1e-7f, $"{activation} element {i}: cpu {cpu[i]:R}, ilgpu-cpu {ilgpu[i]:R}");
        }
        else
        {
            AssertSameBits(cpu, ilgpu, activation.ToString());
        }
    }

    private static void AssertSameBits(float[] cpu, float[] ilgpu, string what)
    {
        Assert.HasCount(cpu.Length, ilgpu);
        for (int i = 0; i < cpu.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(cpu[i]), BitConverter.SingleToInt32Bits(ilgpu[i]),
                $"{what} element {i}: cpu {cpu[i]:R}, ilgpu-cpu {ilgpu[i]:R}");
    }
}
