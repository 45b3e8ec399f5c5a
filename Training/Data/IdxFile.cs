using System.Buffers.Binary;
using System.IO.Compression;

namespace IlgpuVae.Training.Data;

/// <summary>
/// Reader of the IDX format of the MNIST family (MNIST, Fashion-MNIST, KMNIST, EMNIST): a big-endian
/// header (magic, then one 32-bit size per dimension) followed by the unsigned bytes. Files may be
/// raw or gzip-compressed; compression is told by the gzip magic bytes, not by the file name,
/// because renamed downloads are common.
/// </summary>
public static class IdxFile
{
    /// <summary>Magic of an image file: unsigned bytes (0x08), three dimensions (count, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic of a label file: unsigned bytes (0x08), one dimension (count).</summary>
    public const int LabelsMagic = 0x00000801;

    private const int ImagesHeaderBytes = 16;
    private const int LabelsHeaderBytes = 8;

    // Payload buffers start at most this big and grow only as data actually arrives, so a corrupt
    // header that claims billions of images cannot make the reader allocate gigabytes up front.
    private const int InitialPayloadBytes = 64 << 20;

    /// <summary>Reads an image file (magic 0x00000803).</summary>
    /// <exception cref="DataSetException">The file is missing, unreadable or malformed.</exception>
    public static IdxImages ReadImages(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var source = IdxSource.Open(path);
        Span<byte> header = stackalloc byte[ImagesHeaderBytes];
        source.ReadHeader(header, ImagesMagic);
        int count = ReadDimension(source, header, 1, "image count");
        int rows = ReadDimension(source, header, 2, "row count");
        int columns = ReadDimension(source, header, 3, "column count");
        if (rows == 0 || columns == 0)
            throw source.Error($"declares images of {rows}x{columns} pixels; an image needs at least one row and one column.");

        long payload = (long)count * rows * columns;
        string contents = $"{ImagesHeaderBytes}-byte header + {count} images of {rows}x{columns}";
        byte[] pixels = source.ReadPayload(ImagesHeaderBytes, payload, contents);
        return new IdxImages(count, rows, columns, pixels);
    }

    /// <summary>Reads a label file (magic 0x00000801): one byte per example.</summary>
    /// <exception cref="DataSetException">The file is missing, unreadable or malformed.</exception>
    public static byte[] ReadLabels(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var source = IdxSource.Open(path);
        Span<byte> header = stackalloc byte[LabelsHeaderBytes];
        source.ReadHeader(header, LabelsMagic);
        int count = ReadDimension(source, header, 1, "label count");
        return source.ReadPayload(LabelsHeaderBytes, count, $"{LabelsHeaderBytes}-byte header + {count} labels");
    }

    private static int ReadDimension(IdxSource source, ReadOnlySpan<byte> header, int index, string what)
    {
        int value = BinaryPrimitives.ReadInt32BigEndian(header.Slice(4 * index, 4));
        if (value < 0)
            throw source.Error($"declares a negative {what} ({value}); the header is corrupt.");
        return value;
    }

    internal static string DescribeMagic(int magic) => magic switch
    {
        ImagesMagic => "IDX images",
        LabelsMagic => "IDX labels",
        _ when (magic & unchecked((int)0xFFFF0000)) == 0 => $"IDX of element type 0x{(magic >> 8) & 0xFF:X2} with {magic & 0xFF} dimensions",
        _ => "not an IDX file",
    };

    /// <summary>One open IDX file, raw or decompressing, that reports its problems by file name.</summary>
    private sealed class IdxSource : IDisposable
    {
        private readonly Stream _file;
        private readonly Stream _data;

        private IdxSource(string path, Stream file, bool gzip)
        {
            Path = path;
            _file = file;
            IsGzip = gzip;
            _data = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        }

        public string Path { get; }

        public bool IsGzip { get; }

        public static IdxSource Open(string path)
        {
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new DataSetException($"IDX file '{path}' does not exist.", path, e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DataSetException($"IDX file '{path}' cannot be read: {e.Message}", path, e);
            }

            try
            {
                Span<byte> magic = stackalloc byte[2];
                int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
                file.Position = 0;
                return new IdxSource(path, file, got == 2 && magic[0] == 0x1F && magic[1] == 0x8B);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public DataSetException Error(string problem, Exception? inner = null) =>
            new($"IDX file '{Path}' {problem}", Path, inner);

        public void ReadHeader(Span<byte> header, int expectedMagic)
        {
            int got = Read(header);
            if (got < 4)
                throw Error($"is truncated: expected at least {header.Length} header bytes, found {got}{AfterDecompression}.");

            int magic = BinaryPrimitives.ReadInt32BigEndian(header);
            if (magic != expectedMagic)
                throw Error($"has the wrong magic number: expected 0x{expectedMagic:X8} ({DescribeMagic(expectedMagic)}), " +
                            $"found 0x{magic:X8} ({DescribeMagic(magic)}){MixUpHint(expectedMagic, magic)}.");
            if (got < header.Length)
                throw Error($"is truncated: expected at least {header.Length} header bytes, found {got}{AfterDecompression}.");
        }

        /// <summary>
        /// Reads exactly <paramref name="payload"/> bytes and checks that nothing follows: a file
        /// longer than its header says is as suspect as a shorter one.
        /// </summary>
        public byte[] ReadPayload(int headerBytes, long payload, string contents)
        {
            long expectedTotal = headerBytes + payload;
            if (payload > Array.MaxLength)
                throw Error($"declares {contents} = {payload} bytes, more than one array can hold; the header is corrupt.");

            // A raw file's length is known: check it before allocating anything.
            if (!IsGzip && _file.Length != expectedTotal)
                throw Error(SizeMismatch(expectedTotal, _file.Length, contents));

            byte[] buffer = new byte[(int)Math.Min(payload, InitialPayloadBytes)];
            long filled = 0;
            while (filled < payload)
            {
                if (filled == buffer.Length)
                    Array.Resize(ref buffer, (int)Math.Min(payload, 2L * buffer.Length));
                int got = Read(buffer.AsSpan((int)filled));
                if (got == 0)
                    break;
                filled += got;
            }
            if (filled < payload)
                throw Error(SizeMismatch(expectedTotal, headerBytes + filled, contents));

            long trailing = CountRemaining();
            if (trailing > 0)
                throw Error(SizeMismatch(expectedTotal, expectedTotal + trailing, contents));
            return buffer;
        }

        public void Dispose()
        {
            if (!ReferenceEquals(_data, _file))
                _data.Dispose();
            _file.Dispose();
        }

        private string AfterDecompression => IsGzip ? " after decompression" : "";

        private string SizeMismatch(long expected, long found, string contents) => found < expected
            ? $"is truncated: expected {expected} bytes ({contents}), found {found}{AfterDecompression}."
            : $"is too long: expected {expected} bytes ({contents}), found {found}{AfterDecompression}; " +
              $"{found - expected} bytes follow the last item.";

        private static string MixUpHint(int expected, int found) => (expected, found) switch
        {
            (ImagesMagic, LabelsMagic) => "; this looks like a label file given for images",
            (LabelsMagic, ImagesMagic) => "; this looks like an image file given for labels",
            _ => "",
        };

        private int Read(Span<byte> destination)
        {
            try
            {
                return _data.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            }
            catch (InvalidDataException e)
            {
                throw Error($"is not valid gzip data (corrupt or damaged download): {e.Message}", e);
            }
            catch (IOException e)
            {
                throw Error($"cannot be read: {e.Message}", e);
            }
        }

        private long CountRemaining()
        {
            Span<byte> scratch = stackalloc byte[4096];
            long total = 0;
            int got;
            while ((got = Read(scratch)) > 0)
                total += got;
            return total;
        }
    }
}
