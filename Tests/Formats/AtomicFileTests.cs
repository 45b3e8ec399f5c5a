using System.Text;
using IlgpuVae.Training.IO;

namespace IlgpuVae.Tests.Formats;

/// <summary>Atomic replacement: the destination is either untouched or completely rewritten.</summary>
[TestClass]
public sealed class AtomicFileTests
{
    [TestMethod]
    public void WritesAndReplaces()
    {
        using var dir = new TempDirectory();
        string path = dir.File("out.bin");
        AtomicFile.Write(path, s => s.Write([1, 2, 3]));
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        AtomicFile.Write(path, s => s.Write([9]));
        CollectionAssert.AreEqual(new byte[] { 9 }, File.ReadAllBytes(path));
        AtomicFile.WriteAllBytes(path, [4, 5]);
        CollectionAssert.AreEqual(new byte[] { 4, 5 }, File.ReadAllBytes(path));
        Assert.AreEqual(1, Directory.GetFiles(dir.Path).Length);
    }

    [TestMethod]
    public void FailedWriteLeavesTheOldFileAndNoTemporary()
    {
        using var dir = new TempDirectory();
        string path = dir.File("metrics.jsonl");
        File.WriteAllText(path, "old\n");
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial new content"u8);
            throw new InvalidOperationException("disk on fire");
        }));
        Assert.AreEqual("disk on fire", e.Message);
        Assert.AreEqual("old\n", File.ReadAllText(path));
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(dir.Path));
    }

    [TestMethod]
    public void FailedFirstWriteCreatesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("never.png");
        Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(path, _ => throw new IOException("no space")));
        Assert.AreEqual(0, Directory.GetFiles(dir.Path).Length);
    }

    [TestMethod]
    public void WriteAllTextIsUtf8WithoutBom()
    {
        using var dir = new TempDirectory();
        string path = dir.File("note.txt");
        AtomicFile.WriteAllText(path, "épreuve ✓\n");
        CollectionAssert.AreEqual(Encoding.UTF8.GetBytes("épreuve ✓\n"), File.ReadAllBytes(path));
    }

    [TestMethod]
    public void MissingDirectoryIsReported()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "no-such-dir", "file.txt");
        var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => AtomicFile.WriteAllText(path, "x"));
        StringAssert.Contains(e.Message, path);
    }
}
