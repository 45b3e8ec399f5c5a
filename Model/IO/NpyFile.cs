using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace IlgpuVae.Model.IO;

/// <summary>The element types a .npy file of ours holds: float32 for images and latents, integers for labels.</summary>
public enum NpyType
{
    /// <summary>'&lt;f4': little-endian IEEE float32.</summary>
    Float32,
    /// <summary>'|u1': unsigned bytes (numpy writes '|u1'; '&lt;u1' is read too).</summary>
    UInt8,
    /// <summary>'&lt;i4': little-endian int32.</summary>
    Int32,
    /// <summary>'&lt;i8': little-endian int64.</summary>
    Int64,
}

/// <summary>What the header of a .npy file says, before its data is read.</summary>
/// <param name="Name">The file as messages call it.</param>
/// <param name="Version">The format version (1, 0), (2, 0) or (3, 0).</param>
/// <param name="Type">The element type.</param>
/// <param name="Shape">The dimensions, C (row-major) order; empty for a 0-d array of one element.</param>
public sealed record NpyHeader(string Name, (int Major, int Minor) Version, NpyType Type, int[] Shape)
{
    /// <summary>The product of <see cref="Shape"/> (1 for a 0-d array).</summary>
    public long Elements => Shape.Aggregate(1L, (product, d) => product * d);

    /// <summary>The shape as Python prints it: (), (5,), (2, 3).</summary>
    public string ShapeText => NpyFile.FormatShape(Shape);

    /// <summary>The type as numpy names it and as its header spells it: float32 ('&lt;f4').</summary>
    public string TypeText => NpyFile.Describe(Type);
}

/// <summary>
/// A .npy array: its header and its values, one array of the element type (float[], byte[], int[] or
/// long[]) holding <see cref="NpyHeader.Elements"/> values in C order.
/// </summary>
public sealed record NpyArray(NpyHeader Header, Array Data)
{
    public int[] Shape => Header.Shape;

    /// <summary>The values as float32; an <see cref="InvalidDataException"/> naming the file when they are another type.</summary>
    public float[] Float32Values() => Data as float[] ?? throw WrongType(NpyType.Float32);

    /// <summary>
    /// The values of an integer array (uint8, int32 or int64) as ints: labels. An
    /// <see cref="InvalidDataException"/> naming the file when they are floats or do not fit an int.
    /// </summary>
    public int[] IntegerValues()
    {
        switch (Data)
        {
            case byte[] bytes: return [.. bytes.Select(b => (int)b)];
            case int[] ints: return ints;
            case long[] longs:
                var result = new int[longs.Length];
                for (int i = 0; i < longs.Length; i++)
                {
                    if (longs[i] is < int.MinValue or > int.MaxValue)
                        throw NpyFile.Invalid(Header.Name, $"holds {longs[i]} at element {i}, outside the range of a 32-bit integer.");
                    result[i] = (int)longs[i];
                }
                return result;
            default:
                throw NpyFile.Invalid(Header.Name, $"holds {Header.TypeText} values; expected integers (uint8 '|u1', int32 '<i4' or int64 '<i8').");
        }
    }

    private InvalidDataException WrongType(NpyType expected) =>
        NpyFile.Invalid(Header.Name, $"holds {Header.TypeText} values of shape {Header.ShapeText}; expected {NpyFile.Describe(expected)}" +
            (expected == NpyType.Float32 ? " (in numpy: np.save(path, a.astype(np.float32)))." : "."));
}

/// <summary>
/// NumPy's .npy format (numpy.lib.format): the magic "\x93NUMPY", a major and a minor version byte, the
/// header's length (little-endian uint16 for version 1.0, uint32 for 2.0 and 3.0), then the header, a
/// Python dict literal such as <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>
/// padded with spaces to a 64-byte boundary and ended by a newline, then the raw values.
///
/// Read and written here: little-endian float32 ('&lt;f4'), uint8 ('|u1'), int32 ('&lt;i4') and int64
/// ('&lt;i8') arrays in C order; a file with fortran_order True is read only when its layout is the same
/// as C order (at most one dimension above 1). Every inconsistency (a bad magic, a header that is not
/// such a dict, an unknown or big-endian dtype, a data size that is not the shape's) is an
/// <see cref="InvalidDataException"/> naming the file and the problem; lengths are checked against
/// the file's size before anything is allocated, and nothing is read past the end. A path that is a
/// directory, a FIFO or a device is refused before it is opened; a missing file is a
/// <see cref="FileNotFoundException"/> naming it.
/// </summary>
public static class NpyFile
{
    /// <summary>"\x93NUMPY".</summary>
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>numpy aligns the data to 64 bytes.</summary>
    private const int Alignment = 64;

    /// <summary>
    /// An honest header is a few hundred bytes (numpy refuses more than 10,000 unless told otherwise);
    /// a larger length is a corrupt file, and is refused before it is allocated.
    /// </summary>
    public const int MaxHeaderBytes = 1 << 20;

    /// <summary>numpy's limit on dimensions (NPY_MAXDIMS is 32 in numpy 1, 64 in numpy 2).</summary>
    public const int MaxDimensions = 64;

    // ------------------------------------------------------------------ reading

    /// <summary>Reads the array of the file at <paramref name="path"/>.</summary>
    /// <param name="inspectHeader">
    /// Called with the parsed header before the data is read, so that a caller can refuse an array of the
    /// wrong type or shape before memory is spent on it.
    /// </param>
    /// <exception cref="InvalidDataException">The file is malformed, or not a regular file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static NpyArray Read(string path, Action<NpyHeader>? inspectHeader = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        // Before the open: opening a FIFO for reading blocks until a writer appears.
        if (FileKinds.WhyNotReadable(path) is { } problem)
            throw Invalid(path, problem + ".");
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($".npy file '{path}' does not exist.", path, e);
        }
        using (file)
            return Read(file, path, inspectHeader);
    }

    /// <summary>
    /// Reads an array from a seekable <paramref name="stream"/> positioned at the file's first byte;
    /// <paramref name="name"/> is what messages call it. The stream is left open.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is malformed.</exception>
    public static NpyArray Read(Stream stream, string name, Action<NpyHeader>? inspectHeader = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanSeek || !stream.CanRead)
            throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        long length = stream.Length - stream.Position;
        var (header, dataOffset) = ReadHeader(stream, name, length);
        inspectHeader?.Invoke(header);

        long elements = header.Elements;
        int size = ElementSize(header.Type);
        long expected = dataOffset + elements * size;
        if (length != expected)
            throw Invalid(name, length < expected
                ? $"is truncated: its header declares {header.TypeText} values of shape {header.ShapeText} ({elements * size} bytes after a " +
                  $"{dataOffset}-byte header, {expected} in all), but the file is {length} bytes."
                : $"is too long: its header declares {header.TypeText} values of shape {header.ShapeText} ({elements * size} bytes after a " +
                  $"{dataOffset}-byte header, {expected} in all), but the file is {length} bytes; {length - expected} bytes follow the last value.");

        Array data = header.Type switch
        {
            NpyType.Float32 => ReadValues<float>(stream, (int)elements),
            NpyType.UInt8 => ReadValues<byte>(stream, (int)elements),
            NpyType.Int32 => ReadValues<int>(stream, (int)elements),
            _ => ReadValues<long>(stream, (int)elements),
        };
        return new NpyArray(header, data);
    }

    private static T[] ReadValues<T>(Stream stream, int count) where T : unmanaged
    {
        var values = new T[count];
        Span<byte> bytes = MemoryMarshal.AsBytes(values.AsSpan());
        stream.ReadExactly(bytes);
        if (!BitConverter.IsLittleEndian) ReverseEndianness(values.AsSpan());
        return values;
    }

    /// <summary>The header, and the offset of the data from the file's start.</summary>
    private static (NpyHeader Header, long DataOffset) ReadHeader(Stream stream, string name, long length)
    {
        Span<byte> preamble = stackalloc byte[12];
        int got = stream.ReadAtLeast(preamble[..8], 8, throwOnEndOfStream: false);
        if (got < Magic.Length || !preamble[..Magic.Length].SequenceEqual(Magic))
            throw Invalid(name, got < Magic.Length && preamble[..got].SequenceEqual(Magic.AsSpan(0, got))
                ? $"is truncated: {length} bytes, too short to hold the 10-byte preamble of a .npy file."
                : "does not start with the .npy magic \"\\x93NUMPY\"; it is not a NumPy .npy file (an .npz archive, a pickle or " +
                  "a text file are not read: save the array with np.save).");
        if (got < 8)
            throw Invalid(name, $"is truncated: {length} bytes, too short to hold the 10-byte preamble of a .npy file.");
        int major = preamble[6], minor = preamble[7];
        if (major is < 1 or > 3 || minor != 0)
            throw Invalid(name, $"is .npy format version {major}.{minor}; versions 1.0, 2.0 and 3.0 are read.");
        int lengthBytes = major == 1 ? 2 : 4;
        int preambleBytes = 8 + lengthBytes;
        if (length < preambleBytes)
            throw Invalid(name, $"is truncated: {length} bytes, too short to hold the {preambleBytes}-byte preamble of a version {major}.0 .npy file.");
        stream.ReadExactly(preamble.Slice(8, lengthBytes));
        long headerBytes = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        if (headerBytes > length - preambleBytes)
            throw Invalid(name, $"declares a header of {headerBytes} bytes, beyond the file: only {length - preambleBytes} bytes follow the preamble.");
        if (headerBytes > MaxHeaderBytes)
            throw Invalid(name, $"declares a header of {headerBytes} bytes, more than the {MaxHeaderBytes} an array's description needs; the file is corrupt.");

        var text = new byte[headerBytes];
        stream.ReadExactly(text);
        var header = new HeaderParser(name, text, preambleBytes, major).Parse();
        return (header, preambleBytes + headerBytes);
    }

    /// <summary>
    /// The header dict, read as Python's ast.literal_eval would read the part of the language numpy
    /// writes: strings, True and False, non-negative integers and tuples, with any spacing and an
    /// optional trailing comma. Exactly the keys descr, fortran_order and shape, each once.
    /// </summary>
    private ref struct HeaderParser(string name, ReadOnlySpan<byte> text, int origin, int major)
    {
        private readonly string _name = name;
        private readonly ReadOnlySpan<byte> _text = text;
        private readonly int _origin = origin;
        private readonly int _major = major;
        private int _at;

        public NpyHeader Parse()
        {
            string? descr = null;
            bool? fortran = null;
            long[]? shape = null;
            SkipSpace();
            Expect((byte)'{', "the header to start with '{' (a Python dict)");
            SkipSpace();
            while (Peek() != '}')
            {
                int keyAt = _at;
                string key = ReadString("a key in quotes");
                SkipSpace();
                Expect((byte)':', $"':' after the key '{key}'");
                SkipSpace();
                switch (key)
                {
                    case "descr":
                        if (descr is not null) throw Twice(key);
                        if (Peek() != '\'' && Peek() != '"')
                            throw Error(_at, "gives a 'descr' that is not a type string such as '<f4' (a structured dtype); only plain arrays are read.");
                        descr = ReadString("a type string");
                        break;
                    case "fortran_order":
                        if (fortran is not null) throw Twice(key);
                        fortran = ReadBoolean();
                        break;
                    case "shape":
                        if (shape is not null) throw Twice(key);
                        shape = ReadShape();
                        break;
                    default:
                        throw Error(keyAt, $"has the key '{Printable(key)}'; a .npy header has exactly 'descr', 'fortran_order' and 'shape'.");
                }
                SkipSpace();
                if (Peek() == ',') { _at++; SkipSpace(); }
                else if (Peek() != '}') throw Error(_at, $"has {Found()} where ',' or '}}' should follow the value of '{key}'.");
            }
            _at++;
            SkipSpace();
            if (_at < _text.Length)
                throw Error(_at, $"has {Found()} after the header dict's closing '}}'; only spaces and a newline may follow it.");
            if (descr is null || fortran is null || shape is null)
                throw Invalid(_name, $"has a header without {string.Join(" and ", new[] { descr is null ? "'descr'" : null, fortran is null ? "'fortran_order'" : null, shape is null ? "'shape'" : null }.Where(s => s is not null))}.");

            NpyType type = ParseType(_name, descr);
            if (shape.Length > MaxDimensions)
                throw Invalid(_name, $"declares {shape.Length} dimensions; numpy allows at most {MaxDimensions}.");
            long elements = 1;
            foreach (long d in shape)
            {
                if (d > int.MaxValue)
                    throw Invalid(_name, $"declares shape {FormatShape(shape)}, a dimension too large for one array.");
                elements = Math.Min(elements * d, (long)Array.MaxLength + 1);
            }
            if (elements > Array.MaxLength)
                throw Invalid(_name, $"declares shape {FormatShape(shape)}, more elements than one array holds.");
            // Column-major data is laid out as C order only when at most one dimension exceeds 1.
            if (fortran == true && shape.Count(d => d > 1) > 1)
                throw Invalid(_name, $"holds shape {FormatShape(shape)} in Fortran (column-major) order; only C order is read " +
                    "(in numpy: np.save(path, np.ascontiguousarray(a))).");
            return new NpyHeader(_name, (_major, 0), type, [.. shape.Select(d => (int)d)]);
        }

        private readonly int Peek() => _at < _text.Length ? _text[_at] : -1;

        private void SkipSpace()
        {
            while (_at < _text.Length && _text[_at] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') _at++;
        }

        private void Expect(byte c, string what)
        {
            if (Peek() != c) throw Error(_at, $"has {Found()} where it expects {what}.");
            _at++;
        }

        private string ReadString(string what)
        {
            int quote = Peek();
            if (quote is not ('\'' or '"')) throw Error(_at, $"has {Found()} where it expects {what}.");
            int start = ++_at;
            while (_at < _text.Length && _text[_at] != quote)
            {
                byte b = _text[_at];
                if (b == '\\' || b < 0x20 || b > 0x7E)
                    throw Error(_at, "has a string with an escape, a control character or a byte outside printable ASCII; no numpy type or key holds one.");
                _at++;
            }
            if (_at >= _text.Length) throw Error(start - 1, "has a string that is never closed.");
            string value = Encoding.ASCII.GetString(_text[start.._at]);
            _at++;
            return value;
        }

        private bool ReadBoolean()
        {
            if (_text[_at..].StartsWith("True"u8) && !IsWordByte(_at + 4)) { _at += 4; return true; }
            if (_text[_at..].StartsWith("False"u8) && !IsWordByte(_at + 5)) { _at += 5; return false; }
            throw Error(_at, $"has {Found()} where 'fortran_order' needs True or False.");
        }

        private readonly bool IsWordByte(int at) => at < _text.Length && (char.IsAsciiLetterOrDigit((char)_text[at]) || _text[at] == '_');

        private long[] ReadShape()
        {
            if (Peek() != '(') throw Error(_at, $"has {Found()} where 'shape' needs a tuple of integers such as (3, 4).");
            _at++;
            var dimensions = new List<long>();
            bool comma = false;
            SkipSpace();
            while (Peek() != ')')
            {
                if (dimensions.Count > MaxDimensions)
                    throw Error(_at, $"declares more than {MaxDimensions} dimensions; numpy allows at most {MaxDimensions}.");
                dimensions.Add(ReadInteger());
                SkipSpace();
                comma = Peek() == ',';
                if (comma) { _at++; SkipSpace(); }
                else if (Peek() != ')') throw Error(_at, $"has {Found()} in 'shape' where ',' or ')' should follow a dimension.");
            }
            // Python reads (5) as the integer 5, not a tuple: numpy writes (5,).
            if (dimensions.Count == 1 && !comma)
                throw Error(_at, "gives 'shape' as (N) without a comma, which Python reads as an integer; a 1-d shape is (N,).");
            _at++;
            return [.. dimensions];
        }

        private long ReadInteger()
        {
            int start = _at;
            if (Peek() == '-') throw Error(_at, "declares a negative dimension in 'shape'.");
            long value = 0;
            while (_at < _text.Length && char.IsAsciiDigit((char)_text[_at]))
            {
                // Anything above int.MaxValue is refused later; saturate so that no digit string overflows.
                value = Math.Min(value * 10 + (_text[_at] - '0'), (long)int.MaxValue + 1);
                _at++;
            }
            if (_at == start) throw Error(_at, $"has {Found()} in 'shape' where a non-negative integer should be.");
            return value;
        }

        private readonly string Found()
        {
            if (_at >= _text.Length) return "the header's end";
            byte b = _text[_at];
            return b is >= 0x21 and <= 0x7E ? $"'{(char)b}'" : $"byte 0x{b:X2}";
        }

        private readonly InvalidDataException Twice(string key) => Invalid(_name, $"names '{key}' twice in its header.");

        private readonly InvalidDataException Error(int at, string problem) =>
            Invalid(_name, $"{problem.TrimEnd('.')} (header byte {_origin + at} of the file).");

        private static string Printable(string s) => s.Length > 40 ? s[..40] + "..." : s;
    }

    private static NpyType ParseType(string name, string descr) => descr switch
    {
        "<f4" => NpyType.Float32,
        "|u1" or "<u1" or ">u1" => NpyType.UInt8,
        "<i4" => NpyType.Int32,
        "<i8" => NpyType.Int64,
        _ when descr.StartsWith('>') =>
            throw Invalid(name, $"holds big-endian values ('{descr}'); only little-endian data is read (in numpy: np.save(path, a.astype('<{descr[1..]}'))."),
        "<f8" or "=f8" => throw Invalid(name, $"holds float64 values ('{descr}'); expected float32 ('<f4') (in numpy: np.save(path, a.astype(np.float32))) " +
            "or integer labels (uint8 '|u1', int32 '<i4', int64 '<i8')."),
        _ when descr.StartsWith("|O", StringComparison.Ordinal) =>
            throw Invalid(name, "holds Python objects ('|O'), which would need unpickling; only numeric arrays are read."),
        _ => throw Invalid(name, $"holds values of dtype '{descr}'; expected float32 ('<f4'), uint8 ('|u1'), " +
            "int32 ('<i4') or int64 ('<i8')."),
    };

    // ------------------------------------------------------------------ writing

    /// <summary>
    /// Writes <paramref name="data"/> (float, byte, int or long values, C order) as an array of
    /// <paramref name="shape"/>, replacing the file atomically. The header is version 1.0 (2.0 when
    /// <paramref name="major"/> says so, or when it would not fit in 65,535 bytes), laid out as
    /// np.save lays it out: the dict, spaces to a 64-byte boundary, a newline.
    /// </summary>
    public static void Write<T>(string path, ReadOnlyMemory<T> data, ReadOnlySpan<int> shape, int major = 1) where T : unmanaged
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] header = Header<T>(data.Length, shape, major);
        AtomicFileWriter.Write(path, stream =>
        {
            stream.Write(header);
            WriteValues(stream, data.Span);
        });
    }

    /// <summary>Writes the array to <paramref name="stream"/> (as <see cref="Write{T}(string, ReadOnlyMemory{T}, ReadOnlySpan{int}, int)"/>, not atomically).</summary>
    public static void Write<T>(Stream stream, ReadOnlySpan<T> data, ReadOnlySpan<int> shape, int major = 1) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(Header<T>(data.Length, shape, major));
        WriteValues(stream, data);
    }

    /// <summary>The whole file of an array, as bytes.</summary>
    public static byte[] ToBytes<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> shape, int major = 1) where T : unmanaged
    {
        var stream = new MemoryStream();
        Write(stream, data, shape, major);
        return stream.ToArray();
    }

    /// <summary>Magic, version, header length and the padded header dict of an array of elements values.</summary>
    private static byte[] Header<T>(int elements, ReadOnlySpan<int> shape, int major) where T : unmanaged
    {
        NpyType type = TypeOf<T>();
        if (major is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(major), major, "versions 1.0 and 2.0 are written");
        if (shape.Length > MaxDimensions) throw new ArgumentException($"{shape.Length} dimensions; at most {MaxDimensions}", nameof(shape));
        long product = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            product *= d;
        }
        if (product != elements)
            throw new ArgumentException($"shape {FormatShape(shape.ToArray())} holds {product} values, but {elements} were given", nameof(shape));

        string dict = $"{{'descr': '{Descr(type)}', 'fortran_order': False, 'shape': {FormatShape(shape.ToArray())}, }}";
        // np.save's _wrap_header: spaces so that preamble + header + newline is a multiple of 64.
        int Padding(int lengthBytes) => Alignment - (8 + lengthBytes + dict.Length + 1) % Alignment;
        if (major == 1 && dict.Length + Padding(2) + 1 > ushort.MaxValue) major = 2;
        int lengthBytes = major == 1 ? 2 : 4;
        int padding = Padding(lengthBytes);
        int headerBytes = dict.Length + padding + 1;
        var bytes = new byte[8 + lengthBytes + headerBytes];
        Magic.CopyTo(bytes, 0);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerBytes);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerBytes);
        int at = 8 + lengthBytes;
        at += Encoding.ASCII.GetBytes(dict, bytes.AsSpan(at));
        bytes.AsSpan(at, padding).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static void WriteValues<T>(Stream stream, ReadOnlySpan<T> data) where T : unmanaged
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }
        var chunk = new T[Math.Min(data.Length, 1 << 16)];
        for (int start = 0; start < data.Length; start += chunk.Length)
        {
            int n = Math.Min(chunk.Length, data.Length - start);
            data.Slice(start, n).CopyTo(chunk);
            ReverseEndianness(chunk.AsSpan(0, n));
            stream.Write(MemoryMarshal.AsBytes(chunk.AsSpan(0, n)));
        }
    }

    private static void ReverseEndianness<T>(Span<T> values) where T : unmanaged
    {
        if (typeof(T) == typeof(float) || typeof(T) == typeof(int))
        {
            var words = MemoryMarshal.Cast<T, int>(values);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        else if (typeof(T) == typeof(long))
        {
            var words = MemoryMarshal.Cast<T, long>(values);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }

    // ------------------------------------------------------------------ names

    private static NpyType TypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? NpyType.Float32
        : typeof(T) == typeof(byte) ? NpyType.UInt8
        : typeof(T) == typeof(int) ? NpyType.Int32
        : typeof(T) == typeof(long) ? NpyType.Int64
        : throw new ArgumentException($"{typeof(T).Name} values are not written; float, byte, int and long are", nameof(T));

    private static int ElementSize(NpyType type) => type switch
    {
        NpyType.Float32 or NpyType.Int32 => 4,
        NpyType.UInt8 => 1,
        _ => 8,
    };

    /// <summary>The dtype string numpy writes for <paramref name="type"/>.</summary>
    public static string Descr(NpyType type) => type switch
    {
        NpyType.Float32 => "<f4",
        NpyType.UInt8 => "|u1",
        NpyType.Int32 => "<i4",
        _ => "<i8",
    };

    internal static string Describe(NpyType type) => $"{type switch
    {
        NpyType.Float32 => "float32",
        NpyType.UInt8 => "uint8",
        NpyType.Int32 => "int32",
        _ => "int64",
    }} ('{Descr(type)}')";

    /// <summary>A shape as Python prints a tuple: (), (5,), (2, 3).</summary>
    public static string FormatShape(IReadOnlyList<long> shape) => shape.Count switch
    {
        0 => "()",
        1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
    };

    public static string FormatShape(IReadOnlyList<int> shape) => FormatShape(shape.Select(d => (long)d).ToArray());

    internal static InvalidDataException Invalid(string name, string problem, Exception? inner = null) =>
        new($".npy file '{name}' {problem}", inner);
}
