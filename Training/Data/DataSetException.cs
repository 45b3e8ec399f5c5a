namespace IlgpuVae.Training.Data;

/// <summary>
/// A data set that cannot be used: missing, truncated, malformed or inconsistent. The message names
/// the file and the problem, so that the command line can print it as is and exit.
/// </summary>
public sealed class DataSetException : Exception
{
    public DataSetException(string message)
        : base(message)
    {
    }

    public DataSetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DataSetException(string message, string? filePath, Exception? innerException = null)
        : base(message, innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file or directory at fault, when there is one.</summary>
    public string? FilePath { get; }
}
