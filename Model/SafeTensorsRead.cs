using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using IlgpuVae.Model.IO;

namespace IlgpuVae.Model;

public static partial class SafeTensors
{
    // The reference implementation refuses headers above 100 MB; a larger size means a corrupt file,
    // and checking it first avoids allocating whatever the first eight bytes happen to say.
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>
    /// Reads every tensor and the metadata. Tensors come in data order (the order
    /// <see cref="Write"/> was given). Every inconsistency in the header is an
    /// <see cref="InvalidDataException"/> that names the file and the problem; so is a path that is a
    /// directory, a FIFO or a device (refused before it is opened: a FIFO would block the open). A
    /// missing file is a <see cref="FileNotFoundException"/>.
    /// </summary>
    /// <param name="inspectHeader">
    /// Called with the parsed header before any tensor is read, so that a caller can refuse a file
    /// whose header describes something it cannot use before memory is spent on the data.
    /// </param>
    public static SafeTensorFile Read(string path, Action<SafeTensorHeader>? inspectHeader = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (FileKinds.WhyNotReadable(path) is { } problem)
            throw Invalid(path, problem + ".");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(file, path, inspectHeader);
    }

    /// <summary>
    /// Reads a safetensors file from a seekable <paramref name="stream"/> that starts at its first byte;
    /// <paramref name="name"/> is what messages call it. The same checks as <see cref="Read(string, Action{SafeTensorHeader}?)"/>.
    /// </summary>
    public static SafeTensorFile Read(Stream stream, string name, Action<SafeTensorHeader>? inspectHeader = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanSeek || !stream.CanRead)
            throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        long origin = stream.Position;
        long length = stream.Length - origin;
        if (length < 8)
            throw Invalid(name, $"is {length} bytes long, too short to hold the 8-byte header size.");

        Span<byte> sizeBytes = stackalloc byte[8];
        stream.ReadExactly(sizeBytes);
        ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(sizeBytes);
        if (headerSize > (ulong)(length - 8))
            throw Invalid(name, $"declares a header of {headerSize} bytes, beyond the file: only {length - 8} bytes follow the size.");
        if (headerSize > MaxHeaderBytes)
            throw Invalid(name, $"declares a header of {headerSize} bytes, more than the {MaxHeaderBytes} the format allows.");

        var header = new byte[headerSize];
        stream.ReadExactly(header);
        long dataStart = origin + 8 + (long)headerSize;
        long dataLength = length - 8 - (long)headerSize;

        var (entries, metadata) = ParseHeader(name, header, dataLength);
        inspectHeader?.Invoke(new SafeTensorHeader([.. entries.Select(e => new SafeTensorInfo(e.Name, e.Shape))], metadata));
        var tensors = new List<SafeTensor>(entries.Count);
        foreach (var entry in entries)
        {
            var data = new float[entry.Elements];
            stream.Position = dataStart + entry.Begin;
            stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
            if (!BitConverter.IsLittleEndian)
            {
                Span<uint> words = MemoryMarshal.Cast<float, uint>(data.AsSpan());
                BinaryPrimitives.ReverseEndianness(words, words);
            }
            tensors.Add(new SafeTensor(entry.Name, entry.Shape, data));
        }
        return new SafeTensorFile(tensors, metadata);
    }

    private sealed record Entry(string Name, int[] Shape, int Elements, long Begin, long End);

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(string path, byte[] header, long dataLength)
    {
        // JsonDocument checks the structure but decodes strings only when they are read, and then
        // throws InvalidOperationException for bytes that are not UTF-8 (found by fuzzing).
        if (!Utf8.IsValid(header))
            throw Invalid(path, $"has a header that is not valid UTF-8 (at byte {8 + FirstInvalidUtf8(header)} of the file).");
        try
        {
            return ParseJsonHeader(path, header, dataLength);
        }
        catch (InvalidOperationException e)
        {
            // Escapes such as "\ud800" (half a surrogate pair) are valid JSON but no string.
            throw Invalid(path, $"has a header string that is not valid Unicode: {e.Message}", e);
        }
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int good = 0;
        while (good < bytes.Length && Rune.DecodeFromUtf8(bytes[good..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
            good += consumed;
        return good;
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseJsonHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"has a header that is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Invalid(path, $"has a JSON header that is {Kind(root)}, not an object.");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Invalid(path, $"names '{property.Name}' twice in its header.");
                if (property.Name == MetadataKey)
                    ReadMetadata(path, property.Value, metadata);
                else
                    entries.Add(ReadEntry(path, property.Name, property.Value, dataLength));
            }

            // Sorting by offset puts the tensors in data order and makes an overlap a neighbour check.
            entries = [.. entries.OrderBy(e => e.Begin).ThenBy(e => e.End)];
            Entry? previous = null;
            foreach (Entry entry in entries.Where(e => e.End > e.Begin))
            {
                if (previous is not null && entry.Begin < previous.End)
                    throw Invalid(path, $"has overlapping tensors: '{previous.Name}' [{previous.Begin}, {previous.End}) and " +
                                        $"'{entry.Name}' [{entry.Begin}, {entry.End}).");
                previous = entry;
            }
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"has '{MetadataKey}' that is {Kind(value)}, not an object of strings.");
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"has metadata '{item.Name}' that is {Kind(item.Value)}, not a string.");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Invalid(path, $"names metadata '{item.Name}' twice.");
        }
    }

    private static Entry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"describes tensor '{name}' by {Kind(value)}, not an object.");

        if (!value.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind != JsonValueKind.String)
            throw Invalid(path, $"gives tensor '{name}' no dtype string.");
        string type = dtype.GetString()!;
        if (type != Float32)
            throw Invalid(path, $"holds tensor '{name}' of dtype '{type}'; only {Float32} is supported.");

        long[] shape = ReadIntegers(path, name, value, "shape", expectedCount: null);
        long[] offsets = ReadIntegers(path, name, value, "data_offsets", expectedCount: 2);
        long begin = offsets[0], end = offsets[1];

        long elements = 1;
        foreach (long dimension in shape)
        {
            if (dimension > int.MaxValue)
                throw Invalid(path, $"gives tensor '{name}' shape {FormatShape(shape)}, a dimension too large.");
            elements = Math.Min(elements * dimension, (long)Array.MaxLength + 1);
        }
        if (elements > Array.MaxLength)
            throw Invalid(path, $"gives tensor '{name}' shape {FormatShape(shape)}, more elements than one array holds.");

        if (begin > end)
            throw Invalid(path, $"gives tensor '{name}' data_offsets [{begin}, {end}] that end before they begin.");
        if (end > dataLength)
            throw Invalid(path, $"gives tensor '{name}' data_offsets [{begin}, {end}] beyond the {dataLength} data bytes the file holds.");
        if (end - begin != 4 * elements)
            throw Invalid(path, $"gives tensor '{name}' data_offsets [{begin}, {end}] ({end - begin} bytes) but shape " +
                                $"{FormatShape(shape)} of {Float32} needs {4 * elements} bytes.");

        return new Entry(name, [.. shape.Select(d => (int)d)], (int)elements, begin, end);
    }

    private static long[] ReadIntegers(string path, string name, JsonElement tensor, string field, int? expectedCount)
    {
        if (!tensor.TryGetProperty(field, out JsonElement array) || array.ValueKind != JsonValueKind.Array)
            throw Invalid(path, $"gives tensor '{name}' no '{field}' array.");
        var values = new long[array.GetArrayLength()];
        if (expectedCount is int count && values.Length != count)
            throw Invalid(path, $"gives tensor '{name}' a '{field}' of {values.Length} numbers; it needs {count}.");
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long number) || number < 0)
                throw Invalid(path, $"gives tensor '{name}' a '{field}' with {item.GetRawText()}, not a non-negative integer.");
            values[i++] = number;
        }
        return values;
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "an object",
    };

    private static InvalidDataException Invalid(string path, string problem, Exception? inner = null) =>
        new($"safetensors file '{path}' {problem}", inner);
}
