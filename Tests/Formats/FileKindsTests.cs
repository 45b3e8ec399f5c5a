using IlgpuVae.Model.IO;
using IlgpuVae.Tests.Host;

namespace IlgpuVae.Tests.Formats;

/// <summary>File types told apart before anything opens them, and atomic writes that respect them.</summary>
[TestClass]
public sealed class FileKindsTests
{
    [TestMethod]
    public void TellsEveryKindAndFollowsLinks()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("file"), "x");
        Assert.AreEqual(FileKind.RegularFile, FileKinds.Of(dir.File("file")));
        Assert.AreEqual(FileKind.Directory, FileKinds.Of(dir.Path));
        Assert.AreEqual(FileKind.Missing, FileKinds.Of(dir.File("none")));
        Assert.AreEqual(FileKind.Missing, FileKinds.Of(Path.Combine(dir.File("file"), "below")), "below a file");
        if (!OperatingSystem.IsLinux()) return;

        File.CreateSymbolicLink(dir.File("link"), "file");
        Assert.AreEqual(FileKind.RegularFile, FileKinds.Of(dir.File("link")));
        File.CreateSymbolicLink(dir.File("dangling"), "none");
        Assert.AreEqual(FileKind.Missing, FileKinds.Of(dir.File("dangling")));
        Assert.AreEqual(FileKind.CharacterDevice, FileKinds.Of("/dev/null"));
        ProgramTools.MakeFifo(dir.File("fifo"));
        Assert.AreEqual(FileKind.Fifo, FileKinds.Of(dir.File("fifo")));
        StringAssert.Contains(FileKinds.WhyNotReadable(dir.File("fifo")), "FIFO");
        Assert.IsNull(FileKinds.WhyNotReadable(dir.File("link")));
    }

    [TestMethod]
    public void AnAtomicWriteThroughALinkReplacesItsTargetAndKeepsTheLink()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("symbolic links");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("real"));
        File.WriteAllText(dir.File("real/out.txt"), "old");
        File.CreateSymbolicLink(dir.File("out.txt"), "real/out.txt");
        File.CreateSymbolicLink(dir.File("new.txt"), "real/new.txt");

        AtomicFileWriter.Write(dir.File("out.txt"), s => s.Write("new"u8));
        AtomicFileWriter.Write(dir.File("new.txt"), s => s.Write("created"u8));

        Assert.AreEqual("real/out.txt", new FileInfo(dir.File("out.txt")).LinkTarget);
        Assert.AreEqual("new", File.ReadAllText(dir.File("real/out.txt")));
        Assert.AreEqual("created", File.ReadAllText(dir.File("real/new.txt")), "a dangling link's target is created");
        Assert.AreEqual(2, Directory.GetFiles(dir.File("real")).Length, "no temporary file left");
    }

    [TestMethod]
    public void AnAtomicWriteNeverReplacesAFifoOrADirectory()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("FIFOs");
        using var dir = new TempDirectory();
        ProgramTools.MakeFifo(dir.File("pipe"));
        var e = Assert.ThrowsExactly<IOException>(() => AtomicFileWriter.Write(dir.File("pipe"), s => s.Write("x"u8)));
        StringAssert.Contains(e.Message, $"Cannot write '{dir.File("pipe")}': it is a FIFO (named pipe)");
        Assert.AreEqual(FileKind.Fifo, FileKinds.Of(dir.File("pipe")));

        Directory.CreateDirectory(dir.File("sub"));
        e = Assert.ThrowsExactly<IOException>(() => AtomicFileWriter.Write(dir.File("sub"), s => s.Write("x"u8)));
        StringAssert.Contains(e.Message, "is a directory");
        Assert.AreEqual(2, Directory.GetFileSystemEntries(dir.Path).Length, "nothing else was written");
    }

    [TestMethod]
    public void AFailingWriteNamesTheDestinationNotTheTemporaryFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        var e = Assert.ThrowsExactly<IOException>(() => AtomicFileWriter.Write(path, s =>
        {
            // What a full disk looks like to the writer: the file system names the file it writes.
            string temporary = ((FileStream)s).Name;
            throw new IOException($"No space left on device : '{temporary}'");
        }));
        Assert.AreEqual($"Cannot write '{path}': No space left on device", e.Message);
        Assert.AreEqual(0, Directory.GetFileSystemEntries(dir.Path).Length);
    }
}
