using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Formats;

/// <summary>checkpoint.safetensors: a round trip keeps every field, it reads as a model file, and damage is named.</summary>
[TestClass]
public sealed class CheckpointFileTests
{
    private static TrainingCheckpoint Sample()
    {
        var config = new VaeConfig { Hidden = [5, 3], Latent = 2, Input = 6, ImageHeight = 2, ImageWidth = 3, Beta = 0.5f };
        int n = new ParameterLayout(config).Length;
        var layout = new ParameterLayout(config);
        float[] parameters = new float[n], m = new float[n], v = new float[n];
        // Values only inside the tensors: the gaps of the flat layout are zero in every real run.
        foreach (var t in layout.Tensors)
            for (int i = 0; i < t.Length; i++) parameters[t.Offset + i] = MathF.Sin(t.Offset + i) * 0.37f;
        for (int i = 0; i < n; i++) { m[i] = i * 1e-3f - 0.01f; v[i] = i * 1e-7f; }
        var options = new TrainingOptions
        {
            Epochs = 7, MaxSteps = 1234, BatchSize = 33, Seed = 18446744073709551557UL, EvalBatch = 77, Binarize = true,
            Adam = new AdamSettings(3e-4f, 0.85f, 0.995f, 1e-7f, 0.0125f, true),
        };
        return new TrainingCheckpoint(config, options, new TrainingPosition(456, 3, 12, 1234.5678901234567, 396), parameters, m, v,
            new DataSignature("/data/set", 1000, 300, 2, 3, 0xFEDCBA9876543210UL), "opencl:1");
    }

    [TestMethod]
    public void RoundTripKeepsEveryField()
    {
        using var temp = new TempDirectory();
        var written = Sample();
        CheckpointFile.Save(temp.File("c.safetensors"), written);
        var read = CheckpointFile.Load(temp.File("c.safetensors"));
        Assert.AreEqual(written.Config, read.Config);
        Assert.AreEqual(written.Options, read.Options);
        Assert.AreEqual(written.Position, read.Position);
        Assert.AreEqual(written.Data, read.Data);
        Assert.AreEqual("opencl:1", read.Device);
        CollectionAssert.AreEqual(written.Parameters, read.Parameters);
        CollectionAssert.AreEqual(written.FirstMoment, read.FirstMoment);
        CollectionAssert.AreEqual(written.SecondMoment, read.SecondMoment);

        var noLimit = written with { Options = written.Options with { MaxSteps = null } };
        CheckpointFile.Save(temp.File("d.safetensors"), noLimit);
        Assert.IsNull(CheckpointFile.Load(temp.File("d.safetensors")).Options.MaxSteps);
    }

    [TestMethod]
    public void ACheckpointIsAlsoAModelFile()
    {
        using var temp = new TempDirectory();
        var checkpoint = Sample();
        CheckpointFile.Save(temp.File("c.safetensors"), checkpoint);
        var model = VaeModelFile.Load(temp.File("c.safetensors"));
        Assert.AreEqual(checkpoint.Config, model.Config);
        CollectionAssert.AreEqual(checkpoint.Parameters, model.Parameters);
        Assert.AreEqual("456", model.Metadata["steps"]);
    }

    [TestMethod]
    public void AModelFileIsNotACheckpoint()
    {
        using var temp = new TempDirectory();
        var c = Sample();
        VaeModelFile.Save(temp.File("model.safetensors"), c.Config, c.Parameters);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => CheckpointFile.Load(temp.File("model.safetensors")));
        StringAssert.Contains(e.Message, "model.safetensors");
        StringAssert.Contains(e.Message, "not a training checkpoint");
        Assert.ThrowsExactly<FileNotFoundException>(() => CheckpointFile.Load(temp.File("none.safetensors")));
    }

    [TestMethod]
    public void DamagedMetadataOrMomentsAreNamed()
    {
        using var temp = new TempDirectory();
        var c = Sample();
        CheckpointFile.Save(temp.File("c.safetensors"), c);
        var file = SafeTensors.Read(temp.File("c.safetensors"));

        void Expect(string name, IReadOnlyList<SafeTensor> tensors, Dictionary<string, string> metadata, string fragment)
        {
            SafeTensors.Write(temp.File(name), tensors, metadata);
            var e = Assert.ThrowsExactly<InvalidDataException>(() => CheckpointFile.Load(temp.File(name)), name);
            StringAssert.Contains(e.Message, name);
            StringAssert.Contains(e.Message, fragment);
        }
        Dictionary<string, string> Meta(string key, string? value)
        {
            var meta = new Dictionary<string, string>(file.Metadata);
            if (value is null) meta.Remove(key); else meta[key] = value;
            return meta;
        }
        Expect("lr.safetensors", file.Tensors, Meta("training.lr", "fast"), "'training.lr' = 'fast'");
        Expect("step.safetensors", file.Tensors, Meta("checkpoint.step", null), "lacks metadata 'checkpoint.step'");
        Expect("version.safetensors", file.Tensors, Meta("checkpoint.version", "9"), "version '9'");
        Expect("epoch.safetensors", file.Tensors, Meta("checkpoint.epoch", "0"), "impossible position");
        Expect("batch.safetensors", file.Tensors, Meta("training.batch_size", "0"), "batch size must be >= 1");
        Expect("bool.safetensors", file.Tensors, Meta("training.binarize", "yes"), "not true or false");
        var shortMoment = file.Tensors.Select(t => t.Name == CheckpointFile.FirstMomentTensor ? new SafeTensor(t.Name, [3], [1f, 2f, 3f]) : t).ToList();
        Expect("m.safetensors", shortMoment, Meta("x", "y"), $"'{CheckpointFile.FirstMomentTensor}' holds 3 floats");
        var noMoment = file.Tensors.Where(t => t.Name != CheckpointFile.SecondMomentTensor).ToList();
        Expect("v.safetensors", noMoment, Meta("x", "y"), $"lacks tensor '{CheckpointFile.SecondMomentTensor}'");
    }

    [TestMethod]
    public void TheDataFingerprintSeesEveryByteAndTheLength()
    {
        var bytes = new byte[1003];
        new Random(3).NextBytes(bytes);
        ulong original = DataFingerprint.Compute(bytes);
        Assert.AreEqual(original, DataFingerprint.Compute(bytes.ToArray()), "deterministic");
        foreach (int i in new[] { 0, 7, 8, 500, 999, 1000, 1002 })
        {
            var changed = bytes.ToArray();
            changed[i] ^= 1;
            Assert.AreNotEqual(original, DataFingerprint.Compute(changed), $"byte {i}");
        }
        Assert.AreNotEqual(original, DataFingerprint.Compute(bytes.AsSpan(0, 1002)));
        Assert.AreNotEqual(DataFingerprint.Compute(new byte[8]), DataFingerprint.Compute(new byte[16]), "zeros of other lengths");
        // Swapping two words must change it (a plain XOR of words would not see the order).
        var swapped = bytes.ToArray();
        bytes.AsSpan(0, 8).CopyTo(swapped.AsSpan(8));
        bytes.AsSpan(8, 8).CopyTo(swapped.AsSpan(0));
        Assert.AreNotEqual(original, DataFingerprint.Compute(swapped));
    }

    [TestMethod]
    public void DataSignatureNamesWhatDiffers()
    {
        var a = new DataSignature("/a", 100, 10, 28, 28, 1);
        Assert.IsNull(a.Difference(a with { Directory = "/elsewhere" }), "the same data may move");
        StringAssert.Contains(a.Difference(a with { TrainImages = 99 }), "99 training");
        StringAssert.Contains(a.Difference(a with { Rows = 27 }), "27x28");
        StringAssert.Contains(a.Difference(a with { TrainFingerprint = 2 }), "differ");
    }
}
