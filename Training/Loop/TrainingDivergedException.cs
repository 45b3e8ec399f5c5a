namespace IlgpuVae.Training.Loop;

/// <summary>
/// The run produced a NaN or an infinity (a loss, or a parameter about to be saved): training stops at
/// once, since every later step only spreads it, and nothing of the diverged state is written.
/// Step is the first step found non-finite.
/// </summary>
public sealed class TrainingDivergedException(long step, string message, Exception? inner = null) : Exception(message, inner)
{
    public long Step { get; } = step;
}
