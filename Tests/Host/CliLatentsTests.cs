using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Model.IO;
using IlgpuVae.Tests.Formats;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Images;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// encode, decode, interpolate, manifold and traverse end to end, on tiny models trained for a few
/// steps on a Fashion-MNIST subset: the .npy files they write, the pictures they draw against the
/// model's own encode and decode, and their usage errors.
/// </summary>
[TestClass]
public sealed class CliLatentsTests
{
    private const int TestImages = 100;

    /// <summary>The models, trained once for the class: 20 steps each on 600 training images.</summary>
    private sealed class Trained : IDisposable
    {
        public TempDirectory Temp { get; } = new();
        public string Data => Temp["data"];
        public string Mlp { get; }
        public string Latent20 { get; }
        public string Conditional { get; }
        public string Hierarchical { get; }
        public string Gan { get; }

        public Trained()
        {
            FashionMnist.WriteSubset(Data, trainCount: 600, testCount: TestImages);
            Mlp = Train("mlp", "--hidden", "32", "--latent", "2");
            Latent20 = Train("latent20", "--hidden", "32", "--max-steps", "2");
            Conditional = Train("conditional", "--model", "conditional", "--hidden", "32", "--latent", "2");
            Hierarchical = Train("hierarchical", "--model", "hierarchical", "--hidden", "32", "--latent", "3", "--top-hidden", "16", "--top-latent", "2");
            Gan = Train("gan", "--model", "gan", "--hidden", "32", "--latent", "2", "--max-steps", "2");
        }

        private string Train(string name, params string[] options)
        {
            string[] steps = options.Contains("--max-steps") ? [] : ["--max-steps", "20"];
            var train = CliRunner.Run(["train", .. options, .. steps, "--data", Data, "--run-dir", Temp[name], "--quiet"]);
            Assert.AreEqual(ExitCodes.Ok, train.ExitCode, $"{name}: {train.Error}");
            return Path.Combine(Temp[name], "model.safetensors");
        }

        public void Dispose() => Temp.Dispose();
    }

    private static readonly Lazy<Trained> Models = new(() => new Trained());

    [ClassCleanup]
    public static void RemoveModels()
    {
        if (Models.IsValueCreated) Models.Value.Dispose();
    }

    private static IdxDataSet Data => IdxDataSet.Load(Models.Value.Data);

    /// <summary>reconstruct's math (ImageOutputs.Reconstruct) on the CPU, for the first count test images.</summary>
    private static float[] Reconstructions(string modelPath, int count)
    {
        var model = VaeModelFile.Load(modelPath);
        using var accelerator = Devices.Open("cpu");
        using var network = ModelKinds.Create(accelerator, model.Config, Math.Min(count, 1024), model.Parameters);
        return ImageOutputs.Reconstruct(network, Data.Test.Pixels, count, Data.TestLabels).Reconstructions;
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.IsLessThanOrEqualTo(tolerance, worst, $"{what}: largest difference {worst}");
    }

    private static void Ok(CliRunner.Result r) => Assert.AreEqual(ExitCodes.Ok, r.ExitCode, r.Error);

    [TestMethod]
    public void EncodeWritesMeansLogVariancesAndLabelsAndDecodeOfTheMeansIsTheReconstructions()
    {
        var m = Models.Value;
        using var temp = new TempDirectory();
        var encode = CliRunner.Run("encode", "--model", m.Mlp, "--data", m.Data, "--count", "50", "--out", temp["out/z.npy"], "--logvar", temp["lv.npy"]);
        Ok(encode);
        StringAssert.Contains(encode.Out, "(50 x 2 float32)");

        var z = NpyFile.Read(temp["out/z.npy"]);
        Assert.AreEqual(NpyType.Float32, z.Header.Type);
        CollectionAssert.AreEqual(new[] { 50, 2 }, z.Shape);
        var logvar = NpyFile.Read(temp["lv.npy"]);
        CollectionAssert.AreEqual(new[] { 50, 2 }, logvar.Shape);
        var labels = NpyFile.Read(temp["out/labels.npy"]);
        Assert.AreEqual(NpyType.UInt8, labels.Header.Type);
        CollectionAssert.AreEqual(new[] { 50 }, labels.Shape);
        CollectionAssert.AreEqual(Data.TestLabels[..50], (byte[])labels.Data);

        // The means and log-variances are the encoder's (mu | logvar) rows.
        var model = VaeModelFile.Load(m.Mlp);
        using (var accelerator = Devices.Open("cpu"))
        using (var network = ModelKinds.Create(accelerator, model.Config, 50, model.Parameters))
        {
            var x = Data.Test.Pixels.AsSpan(0, 50 * 784).ToArray().Select(p => p * (1f / 255f)).ToArray(); // as training and reconstruct scale
            using var xs = accelerator.Upload<float>(x);
            var stats = accelerator.Download(network.EncodeStats(new VaeBatch(xs.View), 50));
            for (int i = 0; i < 50; i++)
                for (int j = 0; j < 2; j++)
                {
                    Assert.AreEqual(stats[i * 4 + j], z.Float32Values()[i * 2 + j], $"mu[{i},{j}]");
                    Assert.AreEqual(stats[i * 4 + 2 + j], logvar.Float32Values()[i * 2 + j], $"logvar[{i},{j}]");
                }
        }

        Ok(CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["out/z.npy"], "--out", temp["x.npy"]));
        var images = NpyFile.Read(temp["x.npy"]);
        CollectionAssert.AreEqual(new[] { 50, 784 }, images.Shape);
        AssertClose(Reconstructions(m.Mlp, 50), images.Float32Values(), 1e-6f, "decode of encode's means against reconstruct");

        // The same decoded as a PNG grid: 8 a row, 7 rows.
        var png = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["out/z.npy"], "--out", temp["x.png"]);
        Ok(png);
        Assert.AreEqual((8 * 28 + 9 * 2, 7 * 28 + 8 * 2), CliRunner.PngSize(temp["x.png"]));
        var ten = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["out/z.npy"], "--out", temp["x10.png"], "--columns", "10");
        Ok(ten);
        Assert.AreEqual((10 * 28 + 11 * 2, 5 * 28 + 6 * 2), CliRunner.PngSize(temp["x10.png"]));

        // All of the split by default, and --labels elsewhere.
        Ok(CliRunner.Run("encode", "--model", m.Mlp, "--data", m.Data, "--split", "train", "--out", temp["train.npy"], "--labels", temp["train-labels.npy"]));
        CollectionAssert.AreEqual(new[] { 600, 2 }, NpyFile.Read(temp["train.npy"]).Shape);
        CollectionAssert.AreEqual(Data.TrainLabels, (byte[])NpyFile.Read(temp["train-labels.npy"]).Data);
    }

    [TestMethod]
    public void AConditionalModelEncodesAndDecodesWithTheLabels()
    {
        var m = Models.Value;
        using var temp = new TempDirectory();
        Ok(CliRunner.Run("encode", "--model", m.Conditional, "--data", m.Data, "--count", "40", "--out", temp["z.npy"]));
        Ok(CliRunner.Run("decode", "--model", m.Conditional, "--in", temp["z.npy"], "--labels", temp["labels.npy"], "--out", temp["x.npy"]));
        AssertClose(Reconstructions(m.Conditional, 40), NpyFile.Read(temp["x.npy"]).Float32Values(), 1e-6f, "conditional decode against reconstruct");

        // One class for every row: row i differs from the reconstruction where its label is not K.
        Ok(CliRunner.Run("decode", "--model", m.Conditional, "--in", temp["z.npy"], "--label", "3", "--out", temp["x3.npy"]));
        CollectionAssert.AreEqual(new[] { 40, 784 }, NpyFile.Read(temp["x3.npy"]).Shape);

        var none = CliRunner.Run("decode", "--model", m.Conditional, "--in", temp["z.npy"], "--out", temp["y.npy"]);
        Assert.AreEqual(ExitCodes.Usage, none.ExitCode);
        StringAssert.Contains(none.Error, "--label K");
        NpyFile.Write<byte>(temp["few.npy"], new byte[] { 1, 2 }, [2]);
        var few = CliRunner.Run("decode", "--model", m.Conditional, "--in", temp["z.npy"], "--labels", temp["few.npy"], "--out", temp["y.npy"]);
        Assert.AreEqual(ExitCodes.Usage, few.ExitCode);
        StringAssert.Contains(few.Error, "shape (2,)");
        NpyFile.Write<long>(temp["big.npy"], Enumerable.Repeat(10L, 40).ToArray(), [40]);
        var big = CliRunner.Run("decode", "--model", m.Conditional, "--in", temp["z.npy"], "--labels", temp["big.npy"], "--out", temp["y.npy"]);
        Assert.AreEqual(ExitCodes.DataError, big.ExitCode);
        StringAssert.Contains(big.Error, "label 10; the model has classes 0..9");
        var mlpLabel = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["z.npy"], "--label", "3", "--out", temp["y.npy"]);
        Assert.AreEqual(ExitCodes.Usage, mlpLabel.ExitCode);
        StringAssert.Contains(mlpLabel.Error, "for conditional models");

        // The class is blended along the path, so the ends are still the reconstructions.
        Ok(CliRunner.Run("interpolate", "--model", m.Conditional, "--data", m.Data, "--from", "0", "--to", "1", "--steps", "4", "--out", temp["i.png"]));
        var row = Tiles(temp["i.png"], 6);
        var reconstructions = Reconstructions(m.Conditional, 2);
        AssertTileNear(reconstructions.AsSpan(0, 784), row[1], "first decoded point");
        AssertTileNear(reconstructions.AsSpan(784, 784), row[4], "last decoded point");

        Ok(CliRunner.Run("manifold", "--model", m.Conditional, "--n", "3", "--label", "7", "--out", temp["m.png"]));
        var unlabelled = CliRunner.Run("manifold", "--model", m.Conditional, "--out", temp["m.png"]);
        Assert.AreEqual(ExitCodes.Usage, unlabelled.ExitCode);
        StringAssert.Contains(unlabelled.Error, "--label K");
        Ok(CliRunner.Run("traverse", "--model", m.Conditional, "--image", "2", "--data", m.Data, "--out", temp["t.png"]));
    }

    [TestMethod]
    public void AHierarchicalModelsLatentsAreZ1()
    {
        var m = Models.Value;
        using var temp = new TempDirectory();
        var encode = CliRunner.Run("encode", "--model", m.Hierarchical, "--data", m.Data, "--count", "30", "--out", temp["z.npy"], "--logvar", temp["lv.npy"]);
        Ok(encode);
        StringAssert.Contains(encode.Out, "z1 posterior means");
        CollectionAssert.AreEqual(new[] { 30, 3 }, NpyFile.Read(temp["z.npy"]).Shape);
        Ok(CliRunner.Run("decode", "--model", m.Hierarchical, "--in", temp["z.npy"], "--out", temp["x.npy"]));
        AssertClose(Reconstructions(m.Hierarchical, 30), NpyFile.Read(temp["x.npy"]).Float32Values(), 1e-6f, "hierarchical decode against reconstruct");
        Ok(CliRunner.Run("traverse", "--model", m.Hierarchical, "--out", temp["t.png"]));
        Assert.AreEqual((9 * 28 + 10 * 2, 3 * 28 + 4 * 2), CliRunner.PngSize(temp["t.png"]));
    }

    [TestMethod]
    public void InterpolationEndsAtTheReconstructionsBetweenTheOriginals()
    {
        var m = Models.Value;
        using var temp = new TempDirectory();
        var reconstructions = Reconstructions(m.Mlp, 10);
        foreach (string mode in new[] { "linear", "slerp" })
        {
            string png = temp[$"{mode}.png"];
            string[] slerp = mode == "slerp" ? ["--slerp"] : [];
            var run = CliRunner.Run(["interpolate", "--model", m.Mlp, "--data", m.Data, "--from", "3", "--to", "7", "--steps", "6", "--out", png, .. slerp]);
            Ok(run);
            StringAssert.Contains(run.Out, mode == "slerp" ? "spherical" : "linear");
            // One row: original 3, six decoded points, original 7.
            Assert.AreEqual((8 * 28 + 9 * 2, 28 + 2 * 2), CliRunner.PngSize(png));
            var row = Tiles(png, 8);
            CollectionAssert.AreEqual(Data.Test.Image(3).ToArray(), row[0], $"{mode}: image 3 at the start");
            CollectionAssert.AreEqual(Data.Test.Image(7).ToArray(), row[7], $"{mode}: image 7 at the end");
            AssertTileNear(reconstructions.AsSpan(3 * 784, 784), row[1], $"{mode}: the first point is the reconstruction of 3");
            AssertTileNear(reconstructions.AsSpan(7 * 784, 784), row[6], $"{mode}: the last point is the reconstruction of 7");
        }

        var bad = CliRunner.Run("interpolate", "--model", m.Mlp, "--data", m.Data, "--from", "3", "--to", "100", "--out", temp["x.png"]);
        Assert.AreEqual(ExitCodes.Usage, bad.ExitCode);
        StringAssert.Contains(bad.Error, "option '--to': '100' is not an image index 0..99 of the test split");
        var missing = CliRunner.Run("interpolate", "--model", m.Mlp, "--data", m.Data, "--from", "3");
        Assert.AreEqual(ExitCodes.Usage, missing.ExitCode);
        StringAssert.Contains(missing.Error, "needs option '--to'");
        var gan = CliRunner.Run("interpolate", "--model", m.Gan, "--data", m.Data, "--from", "0", "--to", "1");
        Assert.AreEqual(ExitCodes.Usage, gan.ExitCode);
        StringAssert.Contains(gan.Error, "no encoder");
    }

    [TestMethod]
    public void TheManifoldDecodesThePriorsQuantileGrid()
    {
        var m = Models.Value;
        using var temp = new TempDirectory();
        var run = CliRunner.Run("manifold", "--model", m.Mlp, "--out", temp["m.png"]);
        Ok(run);
        Assert.AreEqual((20 * 28 + 21 * 2, 20 * 28 + 21 * 2), CliRunner.PngSize(temp["m.png"]));
        StringAssert.Contains(run.Out, "z in [-1.960, 1.960]");

        // The same grid written as latent rows and decoded draws the same picture.
        Ok(CliRunner.Run("manifold", "--model", m.Mlp, "--n", "5", "--out", temp["m5.png"]));
        Assert.AreEqual((5 * 28 + 6 * 2, 5 * 28 + 6 * 2), CliRunner.PngSize(temp["m5.png"]));
        float[] grid = LatentOutputs.ManifoldGrid(5);
        Assert.AreEqual(-1.2815516, grid[0], 1e-6, "top left: z[0] = Φ^-1(0.1)");
        Assert.AreEqual(1.2815516, grid[1], 1e-6, "top left: z[1] = Φ^-1(0.9)");
        NpyFile.Write<float>(temp["grid.npy"], grid, [25, 2]);
        Ok(CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["grid.npy"], "--out", temp["grid.png"], "--columns", "5"));
        CollectionAssert.AreEqual(File.ReadAllBytes(temp["grid.png"]), File.ReadAllBytes(temp["m5.png"]));

        var twenty = CliRunner.Run("manifold", "--model", m.Latent20, "--out", temp["x.png"]);
        Assert.AreEqual(ExitCodes.Usage, twenty.ExitCode);
        StringAssert.Contains(twenty.Error, "has 20 latent dimensions");
        StringAssert.Contains(twenty.Error, "ilgpu-vae traverse");
        Assert.IsFalse(File.Exists(temp["x.png"]));
        var gan = CliRunner.Run("manifold", "--model", m.Gan, "--out", temp["x.png"]);
        Assert.AreEqual(ExitCodes.Usage, gan.ExitCode);
        StringAssert.Contains(gan.Error, "gan model");
        StringAssert.Contains(gan.Error, "ilgpu-vae sample");
    }

    [TestMethod]
    public void TraverseDrawsARowPerDimensionAroundZeroOrAnImage()
    {
        var m = Models.Value;
        using var temp = new TempDirectory();
        var run = CliRunner.Run("traverse", "--model", m.Mlp, "--dims", "1,0", "--steps", "5", "--range", "2", "--out", temp["t.png"]);
        Ok(run);
        Assert.AreEqual((5 * 28 + 6 * 2, 2 * 28 + 3 * 2), CliRunner.PngSize(temp["t.png"]));
        // Row 0 varies z[1], row 1 z[0], from -2 to 2 with the other at 0.
        float[] z = [0, -2, 0, -1, 0, 0, 0, 1, 0, 2, -2, 0, -1, 0, 0, 0, 1, 0, 2, 0];
        CollectionAssert.AreEqual(z, LatentOutputs.Traversal([0f, 0f], [1, 0], 2, 5));
        NpyFile.Write<float>(temp["z.npy"], z, [10, 2]);
        Ok(CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["z.npy"], "--out", temp["z.png"], "--columns", "5"));
        CollectionAssert.AreEqual(File.ReadAllBytes(temp["z.png"]), File.ReadAllBytes(temp["t.png"]));

        // Around image 4's mean: the other dimension stays at the image's posterior mean.
        Ok(CliRunner.Run("traverse", "--model", m.Mlp, "--image", "4", "--data", m.Data, "--out", temp["i.png"]));
        Ok(CliRunner.Run("encode", "--model", m.Mlp, "--data", m.Data, "--count", "5", "--out", temp["means.npy"]));
        float[] mean = NpyFile.Read(temp["means.npy"]).Float32Values()[8..10];
        float[] around = LatentOutputs.Traversal(mean, [0, 1], 3, 9);
        Assert.AreEqual(mean[1], around[2 * 4 + 1], "row 0 keeps z[1] at the mean");
        Assert.AreEqual(0f, around[2 * 4], "the middle of row 0 has z[0] = 0");
        NpyFile.Write<float>(temp["around.npy"], around, [18, 2]);
        Ok(CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["around.npy"], "--out", temp["around.npy.png"], "--columns", "9"));
        var expected = Tiles(temp["around.npy.png"], 9, rows: 2);
        var tiles = Tiles(temp["i.png"], 9, rows: 2);
        for (int i = 0; i < tiles.Count; i++)
            Assert.IsLessThanOrEqualTo(1, tiles[i].Zip(expected[i], (a, b) => Math.Abs(a - b)).Max(), $"tile {i}");

        // Every dimension by default.
        Ok(CliRunner.Run("traverse", "--model", m.Latent20, "--out", temp["t20.png"]));
        Assert.AreEqual((9 * 28 + 10 * 2, 20 * 28 + 21 * 2), CliRunner.PngSize(temp["t20.png"]));

        var dims = CliRunner.Run("traverse", "--model", m.Mlp, "--dims", "0,2", "--out", temp["x.png"]);
        Assert.AreEqual(ExitCodes.Usage, dims.ExitCode);
        StringAssert.Contains(dims.Error, "option '--dims': '0,2' is not a comma-separated list of latent dimensions 0..1");
        var range = CliRunner.Run("traverse", "--model", m.Mlp, "--range", "0", "--out", temp["x.png"]);
        Assert.AreEqual(ExitCodes.Usage, range.ExitCode);
        StringAssert.Contains(range.Error, "--range");
    }

    [TestMethod]
    public void UsageAndDataErrorsNameTheOptionAndTheFile()
    {
        var m = Models.Value;
        using var temp = new TempDirectory();
        var noOut = CliRunner.Run("encode", "--model", m.Mlp, "--data", m.Data);
        Assert.AreEqual(ExitCodes.Usage, noOut.ExitCode);
        StringAssert.Contains(noOut.Error, "'encode' needs option '--out'");
        var noDecodeOut = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["z.npy"]);
        Assert.AreEqual(ExitCodes.Usage, noDecodeOut.ExitCode);
        StringAssert.Contains(noDecodeOut.Error, "'decode' needs option '--out'");
        var same = CliRunner.Run("encode", "--model", m.Mlp, "--data", m.Data, "--out", temp["a.npy"], "--logvar", temp["a.npy"]);
        Assert.AreEqual(ExitCodes.Usage, same.ExitCode);
        StringAssert.Contains(same.Error, "options '--out' and '--logvar' name the same file");
        var gan = CliRunner.Run("encode", "--model", m.Gan, "--data", m.Data, "--out", temp["g.npy"]);
        Assert.AreEqual(ExitCodes.Usage, gan.ExitCode);
        StringAssert.Contains(gan.Error, "no encoder");

        Ok(CliRunner.Run("encode", "--model", m.Mlp, "--data", m.Data, "--count", "12", "--out", temp["z.npy"]));
        var wide = CliRunner.Run("decode", "--model", m.Latent20, "--in", temp["z.npy"], "--out", temp["x.npy"]);
        Assert.AreEqual(ExitCodes.Usage, wide.ExitCode);
        StringAssert.Contains(wide.Error, $"option '--in': '{temp["z.npy"]}' holds an array of shape (12, 2)");
        StringAssert.Contains(wide.Error, "latent size of 20");
        Assert.IsFalse(File.Exists(temp["x.npy"]));
        var text = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["z.npy"], "--out", temp["x.txt"]);
        Assert.AreEqual(ExitCodes.Usage, text.ExitCode);
        StringAssert.Contains(text.Error, "ending in .npy");
        var ganDecode = CliRunner.Run("decode", "--model", m.Gan, "--in", temp["z.npy"], "--out", temp["x.npy"]);
        Assert.AreEqual(ExitCodes.Usage, ganDecode.ExitCode);
        StringAssert.Contains(ganDecode.Error, "gan model");

        var missing = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["none.npy"], "--out", temp["x.npy"]);
        Assert.AreEqual(ExitCodes.DataError, missing.ExitCode);
        StringAssert.Contains(missing.Error, "none.npy' does not exist");
        File.WriteAllBytes(temp["short.npy"], File.ReadAllBytes(temp["z.npy"])[..^4]);
        var truncated = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["short.npy"], "--out", temp["x.npy"]);
        Assert.AreEqual(ExitCodes.DataError, truncated.ExitCode);
        StringAssert.Contains(truncated.Error, "short.npy' is truncated");
        NpyFile.Write<byte>(temp["u8.npy"], new byte[4], [2, 2]);
        var bytes = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["u8.npy"], "--out", temp["x.npy"]);
        Assert.AreEqual(ExitCodes.DataError, bytes.ExitCode);
        StringAssert.Contains(bytes.Error, "uint8 ('|u1')");
        NpyFile.Write<float>(temp["nan.npy"], new[] { 0f, 1f, float.NaN, 0f }, [2, 2]);
        var nan = CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["nan.npy"], "--out", temp["x.npy"]);
        Assert.AreEqual(ExitCodes.DataError, nan.ExitCode);
        StringAssert.Contains(nan.Error, "row 1, column 0");

        // One row may come as (latent,).
        NpyFile.Write<float>(temp["one.npy"], new[] { 0.5f, -0.5f }, [2]);
        Ok(CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["one.npy"], "--out", temp["one-out.npy"]));
        CollectionAssert.AreEqual(new[] { 1, 784 }, NpyFile.Read(temp["one-out.npy"]).Shape);
    }

    [TestMethod]
    public void TheIlgpuCpuDeviceEncodesAndDecodesAsTheCpuDoes()
    {
        var m = Models.Value;
        using var temp = new TempDirectory();
        Ok(CliRunner.Run("encode", "--model", m.Mlp, "--data", m.Data, "--count", "20", "--out", temp["cpu.npy"]));
        Ok(CliRunner.Run("encode", "--model", m.Mlp, "--data", m.Data, "--count", "20", "--out", temp["ilgpu.npy"], "--device", "ilgpu-cpu"));
        AssertClose(NpyFile.Read(temp["cpu.npy"]).Float32Values(), NpyFile.Read(temp["ilgpu.npy"]).Float32Values(), 1e-5f, "means");
        Ok(CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["cpu.npy"], "--out", temp["x-cpu.npy"]));
        Ok(CliRunner.Run("decode", "--model", m.Mlp, "--in", temp["cpu.npy"], "--out", temp["x-ilgpu.npy"], "--device", "ilgpu-cpu"));
        AssertClose(NpyFile.Read(temp["x-cpu.npy"]).Float32Values(), NpyFile.Read(temp["x-ilgpu.npy"]).Float32Values(), 1e-5f, "images");
    }

    /// <summary>The tiles of a grid PNG of 28x28 images, row-major, as the bytes ImageGrid wrote.</summary>
    private static List<byte[]> Tiles(string path, int columns, int rows = 1)
    {
        var png = PngTestDecoder.Decode(File.ReadAllBytes(path));
        var tiles = new List<byte[]>();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                var tile = new byte[784];
                int left = 2 + c * 30, top = 2 + r * 30;
                for (int y = 0; y < 28; y++) png.Pixels.AsSpan((top + y) * png.Width + left, 28).CopyTo(tile.AsSpan(y * 28));
                tiles.Add(tile);
            }
        return tiles;
    }

    /// <summary>A decoded tile against an image of floats, after the grid's rounding to bytes.</summary>
    private static void AssertTileNear(ReadOnlySpan<float> expected, byte[] tile, string what, int tolerance = 1)
    {
        int worst = 0;
        for (int i = 0; i < tile.Length; i++) worst = Math.Max(worst, Math.Abs(ImageGrid.ToByte(expected[i]) - tile[i]));
        Assert.IsLessThanOrEqualTo(tolerance, worst, $"{what}: pixels differ by up to {worst}");
    }
}
