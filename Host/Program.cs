using System.Runtime.InteropServices;
using IlgpuVae.Host;
using IlgpuVae.Host.CommandLine;

// Ctrl-C, SIGTERM (what batch schedulers send before a kill), SIGHUP (a closed terminal or ssh
// session) and SIGUSR1 (a common `sbatch --signal` choice) ask `train` to stop: after the current
// training step, or between two evaluation batches; it then writes its checkpoint and outputs and exits
// with 130. A second Ctrl-C ends the process at once (a second signal of the others does not: see
// below). The other commands have nothing to save, so a signal ends them at once (the default).
bool cooperative = args.Length > 0 && args[0] == "train";
// Every console write goes through a writer that drops what cannot be written (stdout closed, a full
// disk, a broken pipe): a log that fails must never stop a run. See ConsoleStreams.
var (output, error) = ConsoleStreams.Open();
using var interrupt = new CancellationTokenSource();
void RequestStop(string signal, string more)
{
    interrupt.Cancel();
    error.WriteLine();
    error.WriteLine($"ilgpu-vae: {signal}: stopping after the current step and writing the checkpoint{more}");
}
Console.CancelKeyPress += (_, e) =>
{
    if (!cooperative || interrupt.IsCancellationRequested) return;
    e.Cancel = true;
    RequestStop("interrupted", " (Ctrl-C again to abort)");
};
// Every one of these signals is taken as the one request: tools such as timeout(1) deliver it to the
// process and to its group, and a scheduler follows it with SIGKILL when its grace period ends anyway.
PosixSignalRegistration Stop(PosixSignal posix, string name) => PosixSignalRegistration.Create(posix, signal =>
{
    if (!cooperative) return;
    signal.Cancel = true;
    if (!interrupt.IsCancellationRequested) RequestStop(name, "");
});
using var sigterm = Stop(PosixSignal.SIGTERM, "terminated");
using var sighup = OperatingSystem.IsWindows() ? null : Stop(PosixSignal.SIGHUP, "hangup (SIGHUP)");
// .NET names no SIGUSR1, but takes a raw signal number on Unix: 10 on Linux, 30 on macOS and the BSDs.
using var sigusr1 = OperatingSystem.IsLinux() ? Stop((PosixSignal)10, "SIGUSR1")
    : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? Stop((PosixSignal)30, "SIGUSR1") : null;

var context = new CommandContext(output, error, interrupt.Token, IsTerminal: ConsoleStreams.IsTerminal());
return Cli.Run(args, context);

