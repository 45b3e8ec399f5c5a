namespace IlgpuVae.Kernels.Cuda;

/// <summary>
/// Two page-locked staging buffers that carry every host copy. The DMA engines copy asynchronously only
/// from pinned memory; with two buffers, large copies are chunked and the memcpy into one buffer
/// overlaps the transfer out of the other. Each buffer has an event recorded after its last transfer,
/// so a buffer is reused only once the stream is done with it.
/// </summary>
internal sealed unsafe class CudaStaging : IDisposable
{
    /// <summary>Large enough to keep the copy engines near their bandwidth, small enough to pin cheaply.</summary>
    public const int ChunkBytes = 4 << 20;

    private readonly CudaContextHandle _context;
    private readonly CudaStreamHandle _stream;
    private readonly Slot[] _slots = new Slot[2];
    private int _next;

    public CudaStaging(CudaContextHandle context, CudaStreamHandle stream)
    {
        _context = context;
        _stream = stream;
        for (int i = 0; i < _slots.Length; i++) _slots[i] = new Slot();
    }

    private CudaDriverApi Api => _context.Api;
    private IntPtr Stream => _stream.DangerousGetHandle();

    /// <summary>Copies host bytes to device memory; returns once source is no longer needed (the transfer may still run).</summary>
    public void Upload(ReadOnlySpan<byte> source, ulong destination)
    {
        for (int offset = 0; offset < source.Length; offset += ChunkBytes)
        {
            int length = Math.Min(ChunkBytes, source.Length - offset);
            var slot = Acquire(length);
            source.Slice(offset, length).CopyTo(new Span<byte>(slot.Memory!.Pointer, length));
            Api.ThrowIfFailed(Api.cuMemcpyHtoDAsync(destination + (ulong)offset, slot.Memory.Pointer, (nuint)length, Stream));
            Record(slot);
        }
    }

    /// <summary>Copies device memory to host bytes, after all earlier work of the stream; waits for it.</summary>
    public void Download(ulong source, Span<byte> destination)
    {
        int chunks = (destination.Length + ChunkBytes - 1) / ChunkBytes;
        var pending = new Slot[chunks > 1 ? 2 : 1];
        pending[0] = IssueDownload(source, destination.Length, 0);
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            // Chunk i+1 is in flight on the other buffer while chunk i is copied out.
            if (chunk + 1 < chunks) pending[(chunk + 1) % 2] = IssueDownload(source, destination.Length, chunk + 1);
            var slot = pending[chunk % 2];
            Wait(slot);
            int offset = chunk * ChunkBytes, length = Math.Min(ChunkBytes, destination.Length - offset);
            new ReadOnlySpan<byte>(slot.Memory!.Pointer, length).CopyTo(destination.Slice(offset, length));
        }
    }

    private Slot IssueDownload(ulong source, int total, int chunk)
    {
        int offset = chunk * ChunkBytes, length = Math.Min(ChunkBytes, total - offset);
        var slot = Acquire(length);
        Api.ThrowIfFailed(Api.cuMemcpyDtoHAsync(slot.Memory!.Pointer, source + (ulong)offset, (nuint)length, Stream));
        Record(slot);
        return slot;
    }

    /// <summary>The next buffer, once its previous transfer is done, grown to hold bytes.</summary>
    private Slot Acquire(int bytes)
    {
        var slot = _slots[_next];
        _next = (_next + 1) % _slots.Length;
        Wait(slot);
        if (slot.Memory is null || slot.Memory.Bytes < bytes)
        {
            slot.Memory?.Dispose();
            slot.Memory = null;
            // Round small requests up so per-step uploads (batch indices) never reallocate.
            long size = Math.Min(ChunkBytes, Math.Max(64 << 10, (long)bytes));
            slot.Memory = CudaPinnedMemoryHandle.Allocate(_context, size);
        }
        slot.Event ??= CudaEventHandle.Create(_context, CudaDriverApi.EventDisableTiming);
        return slot;
    }

    private void Record(Slot slot)
    {
        Api.ThrowIfFailed(Api.cuEventRecord(slot.Event!.DangerousGetHandle(), Stream));
        slot.InFlight = true;
    }

    private void Wait(Slot slot)
    {
        if (!slot.InFlight) return;
        Api.ThrowIfFailed(Api.cuEventSynchronize(slot.Event!.DangerousGetHandle()));
        slot.InFlight = false;
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.Event?.Dispose();
            slot.Memory?.Dispose();
            slot.Event = null;
            slot.Memory = null;
            slot.InFlight = false;
        }
    }

    private sealed class Slot
    {
        public CudaPinnedMemoryHandle? Memory;
        public CudaEventHandle? Event;
        public bool InFlight;
    }
}
