using System.Globalization;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Tests.Formats;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// Models too large for one parameter buffer, machines without the memory for a model, and a disk
/// that fills during a write: each is a message that says so, with the documented exit code.
/// </summary>
[TestClass]
public sealed class CliResourceLimitTests
{
    private static readonly string Limit = VaeConfig.MaxParameterBufferLength.ToString("N0", CultureInfo.InvariantCulture);

    [TestMethod]
    public void HiddenWidthsBeyondOneParameterBufferAreAUsageErrorWithTheCountAndTheLimit()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp["data"]);
        IdxTestFiles.WriteDataSet(temp["data"], rows: 3, columns: 2);
        var result = CliRunner.Run("train", "--hidden", "60000,60000", "--data", temp["data"], "--run-dir", temp["run"]);

        Assert.AreEqual(ExitCodes.Usage, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "option '--hidden': 60000,60000");
        long parameters = ParameterLayout.FlatLength(new VaeConfig { Input = 6, ImageHeight = 3, ImageWidth = 2, Hidden = [60000, 60000] });
        StringAssert.Contains(result.Error, $"has {parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters");
        StringAssert.Contains(result.Error, $"at most {Limit}");
        Assert.IsFalse(Directory.Exists(temp["run"]), "nothing is written for a usage error");
    }

    [TestMethod]
    public void AModelFileClaimingAModelTooLargeIsADataErrorBeforeAnyAllocation()
    {
        using var temp = new TempDirectory();
        var huge = new VaeConfig { Hidden = [60000, 60000] };
        SafeTensors.Write(temp["huge.safetensors"], [new("fc4.bias", [784], new float[784])], huge.ToMetadata());

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = CliRunner.Run("sample", "--model", temp["huge.safetensors"], "--out", temp["s.png"]);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.AreEqual(ExitCodes.DataError, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "huge.safetensors");
        StringAssert.Contains(result.Error, $"parameters (with alignment); one parameter buffer holds at most {Limit}");
        Assert.IsLessThan(16L << 20, allocated, "refused from the metadata, not after allocating the parameters");
    }

    [TestMethod]
    public void AModelFileLackingTensorsIsRefusedBeforeItsParametersAreAllocated()
    {
        // 831 million parameters fit one buffer, but the file holds one small tensor: the 3.3 GB
        // parameter array must not be allocated only to find that out.
        using var temp = new TempDirectory();
        var large = new VaeConfig { Hidden = [20000, 20000] };
        SafeTensors.Write(temp["large.safetensors"], [new("fc4.bias", [784], new float[784])], large.ToMetadata());

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = CliRunner.Run("sample", "--model", temp["large.safetensors"], "--out", temp["s.png"]);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.AreEqual(ExitCodes.DataError, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "lacks tensor 'encoder.0.weight'");
        Assert.IsLessThan(16L << 20, allocated);
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void OutOfMemoryNamesTheParameterCountAndExits1()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("runs the program under a GC heap limit");
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp["data"]);
        IdxTestFiles.WriteDataSet(temp["data"], rows: 3, columns: 2);
        // 289 million parameters fit one buffer (1.1 GB) but not a 512 MiB heap: a real OutOfMemoryException.
        var config = new VaeConfig { Input = 6, ImageHeight = 3, ImageWidth = 2, Hidden = [12000, 12000] };
        long parameters = ParameterLayout.FlatLength(config);
        var result = ProgramTools.Run(ProgramTools.ProgramPath,
            ["train", "--hidden", "12000,12000", "--data", temp["data"], "--run-dir", temp["run"], "--max-steps", "1"],
            TimeSpan.FromSeconds(90), new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x20000000" });

        Assert.AreEqual(ExitCodes.Failure, result.ExitCode, result.Out + result.Error);
        StringAssert.Contains(result.Error, $"not enough memory for {parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters (");
        StringAssert.Contains(result.Error, " GiB");
        Assert.IsFalse(result.Error.Contains("System.OutOfMemoryException"), result.Error);
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void AFullDiskNamesTheOutputFileNotTheTemporaryOne()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") Assert.Inconclusive("mounting a tmpfs needs root on Linux");
        using var temp = new TempDirectory();
        string model = ProgramTools.TinyModel(temp["m.safetensors"]);
        string full = temp["full"];
        Directory.CreateDirectory(full);
        string output = Path.Combine(full, "samples.png");
        // A private mount namespace: the 64 KiB tmpfs, filled to the last block, exists only for this shell.
        string script = "mount -t tmpfs -o size=64k tmpfs \"$1\" || exit 99; " +
                        "dd if=/dev/zero of=\"$1/fill\" bs=4k 2>/dev/null; " +
                        "\"$2\" sample --model \"$3\" --count 4 --out \"$1/samples.png\"; code=$?; ls -A \"$1\" >&2; exit $code";
        var result = ProgramTools.Run("unshare", ["-m", "--propagation", "private", "bash", "-c", script, "bash", full, ProgramTools.ProgramPath, model],
            TimeSpan.FromSeconds(90));
        if (result.ExitCode == 99 || result.Error.Contains("unshare: ", StringComparison.Ordinal)) Assert.Inconclusive("no tmpfs: " + result.Error);

        Assert.AreEqual(ExitCodes.Failure, result.ExitCode, result.Out + result.Error);
        StringAssert.Contains(result.Error, $"Cannot write '{output}': No space left on device");
        Assert.IsFalse(result.Error.Contains(".tmp", StringComparison.Ordinal), result.Error);
        Assert.IsFalse(result.Error.Contains("samples.png."), "the temporary file was removed: " + result.Error);
    }
}
