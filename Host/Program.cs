using System.Runtime.InteropServices;
using IlgpuVae.Host;
using IlgpuVae.Host.CommandLine;

// Ctrl-C (and SIGTERM, which batch schedulers send before a kill) asks `train` to stop after its
// current step; it then writes its outputs and exits with 130. A second Ctrl-C ends the process at
// once (a second SIGTERM does not: see below). The other commands have nothing to save, so a
// signal ends them at once (the default).
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
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
{
    // Every SIGTERM is taken as the one request: tools such as timeout(1) deliver it to the process
    // and to its group, and a scheduler follows it with SIGKILL when its grace period ends anyway.
    if (!cooperative) return;
    signal.Cancel = true;
    if (!interrupt.IsCancellationRequested) RequestStop("terminated", "");
});

var context = new CommandContext(output, error, interrupt.Token, IsTerminal: ConsoleStreams.IsTerminal());
return Cli.Run(args, context);

