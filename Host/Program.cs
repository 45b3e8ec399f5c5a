using IlgpuVae.Host;
using IlgpuVae.Host.CommandLine;

// Ctrl-C asks the running command to stop after its current step (it then writes its outputs and
// exits with 130); a second Ctrl-C ends the process at once.
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (interrupt.IsCancellationRequested) return;
    e.Cancel = true;
    interrupt.Cancel();
    Console.Error.WriteLine();
    Console.Error.WriteLine("ilgpu-vae: stopping after the current step (Ctrl-C again to abort)");
};

var context = new CommandContext(Console.Out, Console.Error, interrupt.Token, IsTerminal: !Console.IsOutputRedirected);
return Cli.Run(args, context);
