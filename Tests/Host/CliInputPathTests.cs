using IlgpuVae.Host.CommandLine;
using IlgpuVae.Tests.Formats;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// Paths a user can get wrong: empty values, a file where a directory belongs, directories, FIFOs
/// and devices where a file belongs, and symbolic links. Each is refused with the option or the file
/// named and the documented exit code, and nothing blocks: a FIFO would hang a batch job silently.
/// </summary>
[TestClass]
public sealed class CliInputPathTests
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(20);

    [TestMethod]
    [DataRow("--run-dir", "train --run-dir=", "directory")]
    [DataRow("--data", "train --data=", "directory of IDX files")]
    [DataRow("--data", "reconstruct --model m.safetensors --data=", "directory of IDX files")]
    [DataRow("--out", "sample --model m.safetensors --out=", "file name")]
    [DataRow("--out", "reconstruct --model m.safetensors --out= ", "file name")]
    public void EmptyPathsAreUsageErrorsNamingTheOption(string option, string commandLine, string expected)
    {
        var result = CliRunner.Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.AreEqual(ExitCodes.Usage, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, $"option '{option}'");
        StringAssert.Contains(result.Error, expected);
    }

    [TestMethod]
    public void ARunDirectoryThatIsAFileIsAUsageError()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["taken"], "not a directory");
        var result = CliRunner.Run("train", "--run-dir", temp["taken"], "--data", temp["no-data"]);
        Assert.AreEqual(ExitCodes.Usage, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "option '--run-dir'");
        StringAssert.Contains(result.Error, temp["taken"]);
        StringAssert.Contains(result.Error, "is an existing file");
        Assert.AreEqual("not a directory", File.ReadAllText(temp["taken"]));

        var below = CliRunner.Run("train", "--run-dir", Path.Combine(temp["taken"], "run"), "--data", temp["no-data"]);
        Assert.AreEqual(ExitCodes.Usage, below.ExitCode, below.Error);
        StringAssert.Contains(below.Error, $"'{temp["taken"]}' is a file, not a directory");
    }

    [TestMethod]
    public void DataThatIsAFileIsNamedAsSuch()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["data"], "");
        var result = CliRunner.Run("train", "--data", temp["data"], "--run-dir", temp["run"]);
        Assert.AreEqual(ExitCodes.DataError, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, $"'{temp["data"]}' is a file, not a directory");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void AnIdxFileThatIsAFifoIsRefusedWithoutBlocking()
    {
        using var temp = new TempDirectory();
        string data = temp["data"];
        Directory.CreateDirectory(data);
        IdxTestFiles.WriteDataSet(data);
        File.Delete(Path.Combine(data, "train-images-idx3-ubyte.gz"));
        string fifo = Path.Combine(data, "train-images-idx3-ubyte");
        ProgramTools.MakeFifo(fifo);

        var result = ProgramTools.WithoutHanging(() => CliRunner.Run("train", "--data", data, "--run-dir", temp["run"]),
            NoHang, () => ProgramTools.ReleaseFifo(fifo));
        Assert.AreEqual(ExitCodes.DataError, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, $"'{fifo}' is a FIFO (named pipe), not a regular file");
    }

    [TestMethod]
    public void AnIdxFileThatIsADirectoryOrADeviceIsNamedAsSuch()
    {
        using var temp = new TempDirectory();
        string data = temp["data"];
        Directory.CreateDirectory(data);
        IdxTestFiles.WriteDataSet(data);
        File.Delete(Path.Combine(data, "train-labels-idx1-ubyte.gz"));
        Directory.CreateDirectory(Path.Combine(data, "train-labels-idx1-ubyte"));
        var directory = CliRunner.Run("train", "--data", data, "--run-dir", temp["run"]);
        Assert.AreEqual(ExitCodes.DataError, directory.ExitCode, directory.Error);
        StringAssert.Contains(directory.Error, "train-labels-idx1-ubyte' is a directory, not a file");

        if (!OperatingSystem.IsLinux()) return;
        Directory.Delete(Path.Combine(data, "train-labels-idx1-ubyte"));
        // /dev/zero never ends: a reader that trusted it would read forever.
        File.CreateSymbolicLink(Path.Combine(data, "train-labels-idx1-ubyte"), "/dev/zero");
        var device = ProgramTools.WithoutHanging(() => CliRunner.Run("train", "--data", data, "--run-dir", temp["run"]), NoHang, () => { });
        Assert.AreEqual(ExitCodes.DataError, device.ExitCode, device.Error);
        StringAssert.Contains(device.Error, "train-labels-idx1-ubyte' is a character device, not a regular file");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void AModelThatIsAFifoADirectoryOrADeviceIsADataError()
    {
        using var temp = new TempDirectory();
        string fifo = temp["model.safetensors"];
        ProgramTools.MakeFifo(fifo);
        var fromFifo = ProgramTools.WithoutHanging(() => CliRunner.Run("sample", "--model", fifo, "--out", temp["s.png"]),
            NoHang, () => ProgramTools.ReleaseFifo(fifo));
        Assert.AreEqual(ExitCodes.DataError, fromFifo.ExitCode, fromFifo.Error);
        StringAssert.Contains(fromFifo.Error, $"'{fifo}' is a FIFO (named pipe), not a regular file");

        Directory.CreateDirectory(temp["models"]);
        var fromDirectory = CliRunner.Run("sample", "--model", temp["models"], "--out", temp["s.png"]);
        Assert.AreEqual(ExitCodes.DataError, fromDirectory.ExitCode, fromDirectory.Error);
        StringAssert.Contains(fromDirectory.Error, $"'{temp["models"]}' is a directory, not a file");

        var fromDevice = ProgramTools.WithoutHanging(() => CliRunner.Run("sample", "--model", "/dev/zero", "--out", temp["s.png"]), NoHang, () => { });
        Assert.AreEqual(ExitCodes.DataError, fromDevice.ExitCode, fromDevice.Error);
        StringAssert.Contains(fromDevice.Error, "'/dev/zero' is a character device");
        Assert.IsFalse(File.Exists(temp["s.png"]));
    }

    [TestMethod]
    public void OutThatIsASymbolicLinkWritesThroughToItsTarget()
    {
        using var temp = new TempDirectory();
        string model = ProgramTools.TinyModel(temp["m.safetensors"]);
        Directory.CreateDirectory(temp["results"]);
        File.WriteAllText(temp["results/samples.png"], "old");
        File.CreateSymbolicLink(temp["latest.png"], Path.Combine("results", "samples.png"));

        var result = CliRunner.Run("sample", "--model", model, "--count", "4", "--out", temp["latest.png"]);
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        Assert.AreEqual(Path.Combine("results", "samples.png"), new FileInfo(temp["latest.png"]).LinkTarget, "the link is kept");
        Assert.IsTrue(CliRunner.PngCheck(temp["results/samples.png"]).Ok, "the target holds the PNG");
        Assert.AreEqual(1, Directory.GetFiles(temp["results"]).Length, "no temporary file is left beside the target");
    }

    [TestMethod]
    public void OutThatIsAFifoOrADeviceIsRefusedAndLeftInPlace()
    {
        using var temp = new TempDirectory();
        string model = ProgramTools.TinyModel(temp["m.safetensors"]);
        string fifo = temp["pipe.png"];
        ProgramTools.MakeFifo(fifo);
        var toFifo = CliRunner.Run("sample", "--model", model, "--count", "4", "--out", fifo);
        Assert.AreEqual(ExitCodes.Usage, toFifo.ExitCode, toFifo.Error);
        StringAssert.Contains(toFifo.Error, $"option '--out': '{fifo}' is a FIFO (named pipe), not a regular file");
        Assert.AreEqual(IlgpuVae.Model.IO.FileKind.Fifo, IlgpuVae.Model.IO.FileKinds.Of(fifo), "the FIFO is still there");

        // A device node of our own (the one /dev/full is), so that a broken build replaces only it.
        string device = temp["full"];
        if (!ProgramTools.Tool("mknod", device, "c", "1", "7")) Assert.Inconclusive("mknod needs root");
        var toDevice = CliRunner.Run("reconstruct", "--model", model, "--out", device);
        Assert.AreEqual(ExitCodes.Usage, toDevice.ExitCode, toDevice.Error);
        StringAssert.Contains(toDevice.Error, $"option '--out': '{device}' is a character device, not a regular file");
        Assert.AreEqual(IlgpuVae.Model.IO.FileKind.CharacterDevice, IlgpuVae.Model.IO.FileKinds.Of(device), "the device node is still there");
        Assert.AreEqual(3, Directory.GetFileSystemEntries(temp.Path).Length, "the model, the FIFO, the device node and no temporary file");
    }
}
