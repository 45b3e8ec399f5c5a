using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using IlgpuVae.Model.IO;

namespace IlgpuVae.Model;

/// <summary>One named float tensor: <paramref name="Data"/> holds the product of <paramref name="Shape"/> values, row-major.</summary>
public sealed record SafeTensor(string Name, int[] Shape, float[] Data);

/// <summary>What a safetensors header says of one tensor, before its data is read.</summary>
public sealed record SafeTensorInfo(string Name, int[] Shape);

/// <summary>A safetensors header: its tensors in data order and its string metadata.</summary>
public sealed record SafeTensorHeader(IReadOnlyList<SafeTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata);

/// <summary>The tensors of a safetensors file, in file order, and its string metadata.</summary>
public sealed record SafeTensorFile(IReadOnlyList<SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The tensor named <paramref name="name"/>; throws KeyNotFoundException naming it if absent.</summary>
    public SafeTensor this[string name] =>
        Tensors.FirstOrDefault(t => t.Name == name) ?? throw new KeyNotFoundException($"No tensor named '{name}'.");
}

/// <summary>
/// The safetensors format (Hugging Face): an unsigned 64-bit little-endian header size N, N bytes of
/// UTF-8 JSON mapping each tensor name to its dtype, shape and [begin, end) byte offsets within the
/// data that follows, plus an optional "__metadata__" object of strings; then the raw little-endian
/// tensor bytes. PyTorch and the Hugging Face tools read it, and a model is one file with its
/// configuration in the metadata. Only F32 tensors are written and read, which is all the model holds.
/// </summary>
public static partial class SafeTensors
{
    internal const string MetadataKey = "__metadata__";
    internal const string Float32 = "F32";

    /// <summary>
    /// Writes <paramref name="tensors"/> in the given order, contiguous, with the header padded by
    /// spaces to a multiple of 8 bytes so the data starts aligned. The file is replaced atomically.
    /// </summary>
    public static void Write(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tensors);
        Validate(tensors);
        if (metadata is not null && metadata.Any(pair => pair.Key is null || pair.Value is null))
            throw new ArgumentException("Metadata keys and values must not be null.", nameof(metadata));

        byte[] header = BuildHeader(tensors, metadata);
        AtomicFileWriter.Write(path, stream =>
        {
            Span<byte> size = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)header.Length);
            stream.Write(size);
            stream.Write(header);
            foreach (SafeTensor tensor in tensors)
                WriteLittleEndian(stream, tensor.Data);
        });
    }

    private static void Validate(IReadOnlyList<SafeTensor> tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (SafeTensor? tensor in tensors)
        {
            if (tensor is null)
                throw new ArgumentException("A tensor is null.", nameof(tensors));
            if (string.IsNullOrEmpty(tensor.Name))
                throw new ArgumentException("A tensor has an empty name.", nameof(tensors));
            if (tensor.Name == MetadataKey)
                throw new ArgumentException($"'{MetadataKey}' is reserved for the metadata and cannot name a tensor.", nameof(tensors));
            if (!names.Add(tensor.Name))
                throw new ArgumentException($"Two tensors are named '{tensor.Name}'.", nameof(tensors));
            if (tensor.Shape is null || tensor.Data is null)
                throw new ArgumentException($"Tensor '{tensor.Name}' has no shape or no data.", nameof(tensors));
            long elements = 1;
            foreach (int dimension in tensor.Shape)
            {
                if (dimension < 0)
                    throw new ArgumentException($"Tensor '{tensor.Name}' has a negative dimension in shape {FormatShape(tensor.Shape)}.", nameof(tensors));
                // Capped above any array length, so the product cannot overflow and still compares right.
                elements = Math.Min(elements * dimension, (long)int.MaxValue + 1);
            }
            if (elements != tensor.Data.Length)
                throw new ArgumentException(
                    $"Tensor '{tensor.Name}' has shape {FormatShape(tensor.Shape)} but {tensor.Data.Length} values.", nameof(tensors));
        }
    }

    private static byte[] BuildHeader(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps metadata such as "lr=1e-3+warmup" readable; the header is never HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (SafeTensor tensor in tensors)
            {
                long end = offset + 4L * tensor.Data.Length;
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", Float32);
                json.WriteStartArray("shape");
                foreach (int dimension in tensor.Shape)
                    json.WriteNumberValue(dimension);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }

        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteLittleEndian(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        var chunk = new byte[4096];
        for (int start = 0; start < data.Length; start += chunk.Length / 4)
        {
            int n = Math.Min(chunk.Length / 4, data.Length - start);
            for (int i = 0; i < n; i++)
                BinaryPrimitives.WriteSingleLittleEndian(chunk.AsSpan(4 * i), data[start + i]);
            stream.Write(chunk, 0, 4 * n);
        }
    }

    internal static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    internal static string FormatShape(int[] shape) => FormatShape(shape.Select(d => (long)d));
}
