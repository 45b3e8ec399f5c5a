using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IlgpuVae.Tests.Formats.Fuzzing;

/// <summary>Where a format keeps the length fields worth overwriting with extremes.</summary>
public enum LengthFields
{
    None,
    /// <summary>IDX: big-endian int32 dimensions after the 4-byte magic.</summary>
    IdxBigEndian,
    /// <summary>safetensors: the little-endian uint64 header size, then a JSON header.</summary>
    SafeTensors,
    /// <summary>.npy: the version bytes, the little-endian uint16 or uint32 header length, then a Python dict header.</summary>
    Npy,
}

/// <summary>
/// Seeded mutations of valid files, in the spirit of AFL's havoc stage: bit flips, interesting
/// bytes, truncations, insertions and deletions, length fields overwritten with extremes, and for
/// safetensors structural edits of the JSON header (values swapped for extremes, keys dropped or
/// retyped) with the header size fixed up so that the reader gets past the first check. One seed,
/// one sequence of inputs: a failure found once is found again.
/// </summary>
public sealed partial class ByteMutator(int seed)
{
    private readonly Random _random = new(seed);

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'{', (byte)'}', (byte)'[', (byte)']',
        (byte)'"', (byte)',', (byte)':', (byte)'-', (byte)'0', (byte)'9', (byte)'e', 0x1F, 0x8B, 0xC3];

    private static readonly uint[] InterestingInt32 = [0, 1, 2, 28, 255, 256, 784, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x01000000,
        0x7FFFFFC7, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];

    private static readonly string[] InterestingNumbers = ["0", "-1", "1", "2147483647", "2147483648", "4294967296", "9223372036854775807",
        "18446744073709551615", "-9223372036854775808", "1e308", "1.5", "-0", "1E400", "100000000"];

    private static readonly string[] InterestingStrings = ["", "0", "-1", "1", "NaN", "Infinity", "-Infinity", "1e39", "2147483647",
        "2147483648", "99999999999999999999", "true", "yes", "F16", "F32", "I64", "400,,3", ",", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
        "65536", "46341", "bernoulli", "gaussian", "relu", "sigmoid", "bogus", "ffffffffffffffff", "\u0000", "é"];

    /// <summary>One to three stacked mutations of <paramref name="input"/> (which is not changed).</summary>
    public byte[] Mutate(byte[] input, LengthFields fields)
    {
        byte[] data = input;
        int count = 1 + _random.Next(3);
        for (int i = 0; i < count; i++) data = MutateOnce(data, fields);
        return data;
    }

    private byte[] MutateOnce(byte[] data, LengthFields fields)
    {
        int choice = _random.Next(fields is LengthFields.SafeTensors or LengthFields.Npy ? 10 : 8);
        return choice switch
        {
            0 => FlipBits(data),
            1 => SetInterestingByte(data),
            2 => Truncate(data),
            3 => Append(data),
            4 => DeleteRange(data),
            5 => DuplicateRange(data),
            6 or 7 => fields switch
            {
                LengthFields.IdxBigEndian => OverwriteIdxDimension(data),
                LengthFields.SafeTensors => OverwriteHeaderSize(data),
                LengthFields.Npy => OverwriteNpyPreamble(data),
                _ => FlipBits(data),
            },
            _ when fields == LengthFields.Npy => MutateNpyHeader(data),
            _ => MutateJsonHeader(data),
        };
    }

    private byte[] FlipBits(byte[] data)
    {
        if (data.Length == 0) return data;
        byte[] copy = [.. data];
        int flips = 1 + _random.Next(8);
        for (int i = 0; i < flips; i++) copy[_random.Next(copy.Length)] ^= (byte)(1 << _random.Next(8));
        return copy;
    }

    private byte[] SetInterestingByte(byte[] data)
    {
        if (data.Length == 0) return [InterestingBytes[_random.Next(InterestingBytes.Length)]];
        byte[] copy = [.. data];
        copy[_random.Next(copy.Length)] = InterestingBytes[_random.Next(InterestingBytes.Length)];
        return copy;
    }

    private byte[] Truncate(byte[] data) => data.Length == 0 ? data : data[.._random.Next(data.Length)];

    private byte[] Append(byte[] data)
    {
        byte[] tail = new byte[1 + _random.Next(64)];
        _random.NextBytes(tail);
        return [.. data, .. tail];
    }

    private byte[] DeleteRange(byte[] data)
    {
        if (data.Length < 2) return data;
        int start = _random.Next(data.Length);
        int length = 1 + _random.Next(Math.Min(256, data.Length - start));
        return [.. data.AsSpan(0, start), .. data.AsSpan(start + length)];
    }

    private byte[] DuplicateRange(byte[] data)
    {
        if (data.Length == 0) return data;
        int start = _random.Next(data.Length);
        int length = 1 + _random.Next(Math.Min(256, data.Length - start));
        int at = _random.Next(data.Length + 1);
        return [.. data.AsSpan(0, at), .. data.AsSpan(start, length), .. data.AsSpan(at)];
    }

    private byte[] OverwriteIdxDimension(byte[] data)
    {
        byte[] copy = data.Length >= 16 ? [.. data] : [.. data, .. new byte[16 - data.Length]];
        int field = _random.Next(4); // the magic too: other element types and dimension counts
        uint value = InterestingInt32[_random.Next(InterestingInt32.Length)];
        if (field == 0) value = 0x0800 | (uint)_random.Next(256) | (_random.Next(4) == 0 ? (uint)_random.Next(256) << 8 : 0);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(4 * field), value);
        return copy;
    }

    private byte[] OverwriteHeaderSize(byte[] data)
    {
        byte[] copy = data.Length >= 8 ? [.. data] : [.. data, .. new byte[8 - data.Length]];
        ulong length = (ulong)copy.Length;
        ulong[] sizes = [0, 1, 7, 8, length - 8, length - 7, length, 100_000_000, 100_000_001, int.MaxValue, 1UL << 32, 1UL << 63, ulong.MaxValue];
        BinaryPrimitives.WriteUInt64LittleEndian(copy, sizes[_random.Next(sizes.Length)]);
        return copy;
    }

    /// <summary>Parses the JSON header, edits one value or key, writes it back with a correct size.</summary>
    private byte[] MutateJsonHeader(byte[] data)
    {
        if (data.Length < 8) return data;
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (size > (ulong)(data.Length - 8)) return FlipBits(data);
        JsonNode? root;
        var nodes = new List<JsonNode>();
        try
        {
            root = JsonNode.Parse(data.AsSpan(8, (int)size));
            if (root is null) return data;
            Collect(root, nodes); // JsonNode materialises lazily: duplicate keys throw here
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return FlipBits(data);
        }
        JsonNode target = nodes[_random.Next(nodes.Count)];
        Edit(target);

        byte[] header = Encoding.UTF8.GetBytes(root.ToJsonString());
        byte[] result = new byte[8 + header.Length + (data.Length - 8 - (int)size)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Length);
        header.CopyTo(result, 8);
        data.AsSpan(8 + (int)size).CopyTo(result.AsSpan(8 + header.Length));
        return result;
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        nodes.Add(node);
        if (node is JsonObject obj)
            foreach (var (_, child) in obj) { if (child is not null) Collect(child, nodes); }
        else if (node is JsonArray array)
            foreach (var child in array) { if (child is not null) Collect(child, nodes); }
    }

    private void Edit(JsonNode node)
    {
        JsonNode? parent = node.Parent;
        switch (node)
        {
            case JsonObject obj when obj.Count > 0 && _random.Next(3) == 0:
                obj.Remove(obj.ElementAt(_random.Next(obj.Count)).Key);
                return;
            case JsonObject obj when _random.Next(2) == 0:
                obj[InterestingStrings[_random.Next(InterestingStrings.Length)]] = RandomValue();
                return;
            case JsonArray array when array.Count > 0 && _random.Next(2) == 0:
                array.RemoveAt(_random.Next(array.Count));
                return;
            case JsonArray array:
                array.Add(JsonValue.Create(long.Parse(InterestingNumbers[_random.Next(6)], System.Globalization.CultureInfo.InvariantCulture)));
                return;
        }
        if (parent is null) return;
        JsonNode? replacement = RandomValue();
        if (parent is JsonObject owner) owner[node.GetPropertyName()] = replacement;
        else if (parent is JsonArray list) list[node.GetElementIndex()] = replacement;
    }

    private JsonNode? RandomValue() => _random.Next(6) switch
    {
        0 => JsonNode.Parse(InterestingNumbers[_random.Next(InterestingNumbers.Length)]),
        1 => null,
        2 => new JsonArray(),
        3 => new JsonObject(),
        4 => JsonValue.Create(_random.Next(2) == 0),
        _ => JsonValue.Create(InterestingStrings[_random.Next(InterestingStrings.Length)]),
    };
}
