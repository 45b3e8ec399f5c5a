using System.Buffers.Binary;
using System.IO.Compression;
using IlgpuVae.Model.IO;

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

    // A gzip file's decompressed size is known only once it is read: its payload buffer starts this
    // big and doubles as data actually arrives, so a corrupt header that claims billions of images
    // cannot make the reader allocate gigabytes up front for a file of a few bytes.
    private const int InitialGzipPayloadBytes = 64 << 10;

    /// <summary>Reads an image file (magic 0x00000803).</summary>
    /// <exception cref="DataSetException">
    /// The file is missing, unreadable, malformed, or not a regular file (a directory, a FIFO, a device:
    /// refused before it is opened, since a FIFO would block the open).
    /// </exception>
    public static IdxImages ReadImages(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var source = IdxSource.Open(path);
        return ReadImages(source);
    }

    /// <summary>
    /// Reads an image file from a seekable <paramref name="stream"/> positioned at its first byte;
    /// <paramref name="name"/> is what messages call it. The stream is left open.
    /// </summary>
    /// <exception cref="DataSetException">The data is malformed.</exception>
    public static IdxImages ReadImages(Stream stream, string name)
    {
        using var source = IdxSource.Wrap(stream, name);
        return ReadImages(source);
    }

    /// <summary>Reads a label file (magic 0x00000801): one byte per example.</summary>
    /// <exception cref="DataSetException">The file is missing, unreadable, malformed or not a regular file.</exception>
    public static byte[] ReadLabels(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var source = IdxSource.Open(path);
        return ReadLabels(source);
    }

    /// <summary>Reads a label file from a seekable stream positioned at its first byte; the stream is left open.</summary>
    /// <exception cref="DataSetException">The data is malformed.</exception>
    public static byte[] ReadLabels(Stream stream, string name)
    {
        using var source = IdxSource.Wrap(stream, name);
        return ReadLabels(source);
    }

    private static IdxImages ReadImages(IdxSource source)
    {
        Span<byte> header = stackalloc byte[ImagesHeaderBytes];
        source.ReadHeader(header, ImagesMagic);
        int count = ReadDimension(source, header, 1, "image count");
        int rows = ReadDimension(source, header, 2, "row count");
        int columns = ReadDimension(source, header, 3, "column count");
        if (rows == 0 || columns == 0)
            throw source.Error($"declares images of {rows}x{columns} pixels; an image needs at least one row and one column.");
        // Pixels of one image are indexed with an int: a larger image is a corrupt header, and the
        // bound also keeps count * rows * columns (at most 2^31 * 2^31) from overflowing a long.
        long pixelsPerImage = (long)rows * columns;
        if (pixelsPerImage > Array.MaxLength)
            throw source.Error($"declares images of {rows}x{columns} = {pixelsPerImage} pixels, more than one array can hold; the header is corrupt.");

        long payload = count * pixelsPerImage;
        string contents = $"{ImagesHeaderBytes}-byte header + {count} images of {rows}x{columns}";
        byte[] pixels = source.ReadPayload(ImagesHeaderBytes, payload, contents);
        return new IdxImages(count, rows, columns, pixels);
    }

    private static byte[] ReadLabels(IdxSource source)
    {
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
        private readonly bool _ownsFile;
        private readonly long _origin;

        private IdxSource(string path, Stream file, bool gzip, bool ownsFile, long origin)
        {
            Path = path;
            _file = file;
            IsGzip = gzip;
            _ownsFile = ownsFile;
            _origin = origin;
            _data = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        }

        public string Path { get; }

        public bool IsGzip { get; }

        public static IdxSource Open(string path)
        {
            // Before the open: opening a FIFO for reading blocks until a writer appears.
            if (FileKinds.WhyNotReadable(path) is { } problem)
                throw new DataSetException($"IDX file '{path}' {problem}.", path);
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
                return Start(file, path, ownsFile: true);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public static IdxSource Wrap(Stream stream, string name)
        {
            ArgumentNullException.ThrowIfNull(stream);
            ArgumentNullException.ThrowIfNull(name);
            if (!stream.CanSeek || !stream.CanRead)
                throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
            return Start(stream, name, ownsFile: false);
        }

        // Compression is told by the gzip magic bytes, then the stream is rewound to its start.
        private static IdxSource Start(Stream file, string name, bool ownsFile)
        {
            long origin = file.Position;
            Span<byte> magic = stackalloc byte[2];
            int got;
            try
            {
                got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            }
            catch (IOException e)
            {
                throw new DataSetException($"IDX file '{name}' cannot be read: {e.Message}", name, e);
            }
            file.Position = origin;
            return new IdxSource(name, file, got == 2 && magic[0] == 0x1F && magic[1] == 0x8B, ownsFile, origin);
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
            long rawLength = _file.Length - _origin;
            if (!IsGzip && rawLength != expectedTotal)
                throw Error(SizeMismatch(expectedTotal, rawLength, contents));

            byte[] buffer = new byte[IsGzip ? (int)Math.Min(payload, InitialGzipPayloadBytes) : (int)payload];
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
            if (_ownsFile)
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
