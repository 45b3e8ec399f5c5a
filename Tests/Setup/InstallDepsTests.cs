using System.Diagnostics;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Setup;

/// <summary>
/// The README's first command starts with .ci/install-deps. It once broke on a stock Debian 12 machine
/// (deb822 sources only, no sources.list): it took the missing sources.list for "non-free disabled" and
/// wrote an entry without Signed-By, which apt rejects, so nothing installed. Each scenario here runs the
/// real script against real apt in a private mount namespace whose /etc/apt holds that scenario's
/// sources, with every package reported missing, and requires apt-get update to succeed afterwards with
/// non-free packages available (install-deps-scenario.sh beside this file). Needs root and the network
/// to the Debian mirror, as the script itself does.
/// </summary>
[TestClass]
public sealed class InstallDepsTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("deb822-stock")]
    [DataRow("deb822-firmware-only")]
    [DataRow("deb822-nonfree-enabled")]
    [DataRow("classic")]
    [DataRow("classic-signed-by")]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void InstallDepsLeavesAptWorkingWithNonFree(string scenario)
    {
        string repo = RepositoryRoot();
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/usr/bin/unshare") || !File.Exists("/usr/bin/apt-get"))
        {
            const string why = "needs Linux, root, unshare and apt (a private mount namespace over /etc/apt)";
            if (KernelConformance.IsCi) Assert.Fail(why);
            Assert.Inconclusive(why);
        }
        var info = new ProcessStartInfo("bash", [Path.Combine(repo, "Tests", "Setup", "install-deps-scenario.sh"), repo, scenario])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.CancellationToken);
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        TestContext.WriteLine(stdout);
        TestContext.WriteLine(stderr.Result);
        Assert.AreEqual(0, process.ExitCode, $"scenario {scenario} failed:\n{stdout}\n{stderr.Result}");
        StringAssert.Contains(stdout, $"{scenario} OK");
    }

    /// <summary>The folder holding IlgpuVae.sln, above the test assembly.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "IlgpuVae.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no IlgpuVae.sln above {AppContext.BaseDirectory}");
    }
}
