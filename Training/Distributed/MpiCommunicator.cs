using System.Runtime.InteropServices;
using System.Text;

namespace IlgpuVae.Training.Distributed;

/// <summary>
/// MPI_COMM_WORLD through the C API, called directly (no binding package: MPI.NET hard-codes MPICH's
/// integer handles and crashes on Open MPI). Both ABI families are served by one class: their
/// functions share C signatures, and only the handles differ. Open MPI's handles are the addresses of
/// exported objects (ompi_mpi_comm_world, ompi_mpi_float, ...), pointer-sized; the MPICH ABI's are
/// fixed 32-bit integers from mpi.h, passed in the same argument registers. MPI_IN_PLACE is 1 in Open
/// MPI and -1 in MPICH.
///
/// The library is opened with RTLD_GLOBAL: Open MPI's components are plugins that resolve their
/// symbols against libmpi, which a local (the runtime's default) load would hide from them.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly nint _world, _float, _double, _sum;
    private readonly void* _inPlace;
    private bool _disposed;

    private MpiCommunicator(nint library, string libraryName, MpiLaunch launch)
    {
        bool openMpi = NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out nint world);
        if (openMpi)
        {
            _world = world;
            _float = Export(library, libraryName, "ompi_mpi_float");
            _double = Export(library, libraryName, "ompi_mpi_double");
            _sum = Export(library, libraryName, "ompi_mpi_op_sum");
            _inPlace = (void*)1;
        }
        else
        {
            // mpi.h of MPICH 3.x/4.x (and so of every MPICH-ABI library).
            _world = 0x44000000;
            _float = 0x4c00040a;
            _double = 0x4c00080b;
            _sum = 0x58000003;
            _inPlace = (void*)-1;
        }
        var init = (delegate* unmanaged<int*, byte***, int>)Export(library, libraryName, "MPI_Init");
        var initialized = (delegate* unmanaged<int*, int>)Export(library, libraryName, "MPI_Initialized");
        var rank = (delegate* unmanaged<nint, int*, int>)Export(library, libraryName, "MPI_Comm_rank");
        var size = (delegate* unmanaged<nint, int*, int>)Export(library, libraryName, "MPI_Comm_size");
        var version = (delegate* unmanaged<byte*, int*, int>)Export(library, libraryName, "MPI_Get_library_version");
        _allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export(library, libraryName, "MPI_Allreduce");
        _abort = (delegate* unmanaged<nint, int, int>)Export(library, libraryName, "MPI_Abort");
        _finalize = (delegate* unmanaged<int>)Export(library, libraryName, "MPI_Finalize");

        int flag = 0;
        Check(initialized(&flag), "MPI_Initialized");
        if (flag == 0) Check(init(null, null), "MPI_Init");
        int r, s;
        Check(rank(_world, &r), "MPI_Comm_rank");
        Check(size(_world, &s), "MPI_Comm_size");
        Rank = r;
        Size = s;
        LocalRank = launch.LocalRank;
        LocalSize = Math.Max(1, launch.LocalSize);

        byte* text = stackalloc byte[8192]; // MPI_MAX_LIBRARY_VERSION_STRING is 8192 in MPICH, 256 in Open MPI
        int length = 0;
        string versionText = version(text, &length) == 0 ? Encoding.ASCII.GetString(text, Math.Clamp(length, 0, 8192)) : libraryName;
        versionText = string.Join(" ", versionText.Split('\n', 2)[0].Split(',')[0].Replace("Version:", "").TrimEnd('\0').Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
        Description = $"{versionText} ({libraryName}), {Size} ranks";
        if (Size != launch.Size)
            throw new MpiUnavailableException($"{launch.Launcher} started {launch.Size} ranks but {libraryName} sees {Size}: " +
                $"the program was launched by another MPI than the one loaded (set {MpiLaunch.LibraryVariable} to the launcher's libmpi)");
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalRank { get; }
    public int LocalSize { get; }
    public string Description { get; }

    /// <summary>Loads the launcher's MPI library and joins MPI_COMM_WORLD.</summary>
    public static MpiCommunicator Open(MpiLaunch launch)
    {
        var tried = new List<string>();
        foreach (string name in launch.Libraries)
        {
            nint handle = dlopen(name, RtldNow | RtldGlobal);
            if (handle == 0)
            {
                tried.Add($"{name} ({Marshal.PtrToStringUTF8(dlerror()) ?? "not found"})");
                continue;
            }
            return new MpiCommunicator(handle, name, launch);
        }
        throw new MpiUnavailableException($"started by {launch.Launcher} as rank {launch.Rank} of {launch.Size}, but no MPI library loads: " +
            $"tried {string.Join("; ", tried)}. Install the MPI the job was launched with (Debian: libopenmpi3 or libmpich12) " +
            $"or name its library in {MpiLaunch.LibraryVariable}");
    }

    public void AllReduceSum(Span<float> values) => AllReduce(values, _float);

    public void AllReduceSum(Span<double> values) => AllReduce(values, _double);

    private void AllReduce<T>(Span<T> values, nint type) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int done = 0; done < values.Length;)
        {
            int count = Math.Min(values.Length - done, int.MaxValue / 2);
            fixed (T* p = values.Slice(done, count))
                Check(_allreduce(_inPlace, p, count, type, _sum, _world), "MPI_Allreduce");
            done += count;
        }
    }

    public void Abort(int exitCode) => _abort(_world, exitCode);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _finalize();
    }

    // MPI's default error handler aborts the job on any error, so a non-zero code here is rare; it is
    // reported rather than ignored in case a library was set to return errors.
    private static void Check(int code, string call)
    {
        if (code != 0) throw new MpiUnavailableException($"{call} failed with MPI error {code}");
    }

    private static nint Export(nint library, string name, string symbol)
        => NativeLibrary.TryGetExport(library, symbol, out nint address) ? address
            : throw new MpiUnavailableException($"{name} has no {symbol}: it is not an MPI library of the Open MPI or MPICH ABI");

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern nint dlopen(string file, int mode);

    [DllImport("libc.so.6")]
    private static extern nint dlerror();
}
