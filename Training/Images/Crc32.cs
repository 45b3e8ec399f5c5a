namespace IlgpuVae.Training.Images;

/// <summary>
/// CRC-32 as PNG and zlib/gzip define it (ISO-HDLC: reflected polynomial 0xEDB88320, initial value
/// and final XOR 0xFFFFFFFF). Written here because the hashing package does not resolve for this
/// project; table-driven, one byte at a time, which is plenty for image-sized inputs.
/// </summary>
public static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>
    /// Continues the CRC <paramref name="crc"/> of earlier bytes over <paramref name="data"/>:
    /// Append(Compute(a), b) == Compute(a + b), and Append(0, x) == Compute(x).
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data)
            c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
