using System.Buffers.Binary;
using System.Text;

namespace IlgpuVae.Tests.Formats.Fuzzing;

/// <summary>
/// The .npy mutations: the version and the header length overwritten with extremes, and edits of the
/// header dict (a shape, a dtype, an order, a key dropped, doubled or renamed, the syntax bent) with
/// the length fixed up, so that the reader gets past its first checks.
/// </summary>
public sealed partial class ByteMutator
{
    private static readonly string[] NpyShapes = ["()", "(0,)", "(1,)", "(3,)", "(3)", "(2, 3)", "(3, 2)", "(0, 5)", "(5, 0)", "(1, 1, 1)", "(6,)",
        "(2147483647,)", "(2147483648,)", "(-1,)", "(65536, 65536)", "(46341, 46341)", "(1e3,)", "(,)", "(2,,3)", "[2, 3]", "(2, 3", "2, 3)", "None",
        "(99999999999999999999999,)", "(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33)"];

    private static readonly string[] NpyDescrs = ["'<f4'", "'|u1'", "'<u1'", "'<i4'", "'<i8'", "'>f4'", "'<f8'", "'|O'", "'<f2'", "'|b1'", "'S10'",
        "'<U3'", "'f4'", "''", "\"<f4\"", "[('a', '<f4')]", "'<f4", "1", "None"];

    private static readonly string[] NpyKeys = ["'descr'", "'fortran_order'", "'shape'", "'extra'", "\"shape\"", "shape", "'shape' ", "''"];

    private static readonly string[] NpyValues = ["True", "False", "true", "1", "0", "None", "Truee", "'False'", "(3,)", "{}", "'<f4'"];

    private byte[] OverwriteNpyPreamble(byte[] data)
    {
        byte[] copy = data.Length >= 12 ? [.. data] : [.. data, .. new byte[12 - data.Length]];
        if (_random.Next(4) == 0)
        {
            copy[6] = (byte)(_random.Next(3) == 0 ? _random.Next(256) : 1 + _random.Next(3));
            copy[7] = (byte)(_random.Next(4) == 0 ? _random.Next(256) : 0);
            return copy;
        }
        uint length = (uint)Math.Max(0, copy.Length - 10);
        uint[] lengths = [0, 1, 2, 63, 64, 118, length - 1, length, length + 1, length - 2, 0xFFFF, 0x10000, 1 << 20, (1 << 20) + 1, int.MaxValue, uint.MaxValue];
        uint value = lengths[_random.Next(lengths.Length)];
        if (copy[6] == 1) BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(8), (ushort)value);
        else BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(8), value);
        return copy;
    }

    /// <summary>Edits the header dict as text, writes it back with the length of the new header.</summary>
    private byte[] MutateNpyHeader(byte[] data)
    {
        if (data.Length < 10) return FlipBits(data);
        int major = data[6];
        int lengthBytes = major == 1 ? 2 : 4;
        if (data.Length < 8 + lengthBytes) return FlipBits(data);
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8));
        int start = 8 + lengthBytes;
        if (headerLength > data.Length - start) return FlipBits(data);
        string header = Encoding.Latin1.GetString(data, start, (int)headerLength);

        header = _random.Next(8) switch
        {
            0 or 1 => ReplaceValue(header, "'shape':", NpyShapes[_random.Next(NpyShapes.Length)]),
            2 or 3 => ReplaceValue(header, "'descr':", NpyDescrs[_random.Next(NpyDescrs.Length)]),
            4 => ReplaceValue(header, "'fortran_order':", NpyValues[_random.Next(NpyValues.Length)]),
            5 => ReplaceKey(header),
            6 => header.Replace("}", $"{NpyKeys[_random.Next(NpyKeys.Length)]}: {NpyValues[_random.Next(NpyValues.Length)]}, }}", StringComparison.Ordinal),
            _ => BendSyntax(header),
        };

        byte[] text = Encoding.Latin1.GetBytes(header);
        byte[] body = data.AsSpan(start + (int)headerLength).ToArray();
        // Usually the version that holds the new length; now and then the old one, truncating the length.
        int newMajor = major == 1 && text.Length > 0xFFFF && _random.Next(8) != 0 ? 2 : major;
        int newLengthBytes = newMajor == 1 ? 2 : 4;
        byte[] result = new byte[8 + newLengthBytes + text.Length + body.Length];
        data.AsSpan(0, 8).CopyTo(result);
        result[6] = (byte)newMajor;
        if (newLengthBytes == 2) BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)text.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)text.Length);
        text.CopyTo(result, 8 + newLengthBytes);
        body.CopyTo(result, 8 + newLengthBytes + text.Length);
        return result;
    }

    /// <summary>The value after key (up to the next ", '" or "}") replaced.</summary>
    private static string ReplaceValue(string header, string key, string value)
    {
        int at = header.IndexOf(key, StringComparison.Ordinal);
        if (at < 0) return header;
        int from = at + key.Length;
        int end = header.IndexOf(", '", from, StringComparison.Ordinal);
        if (end < 0) end = header.IndexOf('}', from);
        if (end < 0) return header;
        return header[..from] + " " + value + header[end..];
    }

    private string ReplaceKey(string header)
    {
        string[] keys = ["'descr'", "'fortran_order'", "'shape'"];
        string key = keys[_random.Next(keys.Length)];
        int at = header.IndexOf(key, StringComparison.Ordinal);
        if (at < 0) return header;
        if (_random.Next(2) == 0)
        {
            // Drop the key and its value.
            int end = header.IndexOf(", '", at, StringComparison.Ordinal);
            if (end < 0) end = header.IndexOf('}', at) - 2;
            return end > at ? header[..at] + header[Math.Min(header.Length, end + 2)..] : header;
        }
        return header[..at] + NpyKeys[_random.Next(NpyKeys.Length)] + header[(at + key.Length)..];
    }

    private string BendSyntax(string header)
    {
        string[] from = ["{", "}", ":", ",", "(", ")", "'", " ", "\n"];
        string[] to = ["", "{{", "}}", "::", ",,", "\\", "\"", "\t", "\0", "é", "\u0093", ")", "("];
        string target = from[_random.Next(from.Length)];
        int at = header.IndexOf(target, _random.Next(Math.Max(1, header.Length)) % Math.Max(1, header.Length), StringComparison.Ordinal);
        if (at < 0) at = header.IndexOf(target, StringComparison.Ordinal);
        if (at < 0) return header;
        return header[..at] + to[_random.Next(to.Length)] + header[(at + target.Length)..];
    }
}
