/*
 * A file server in the style of dbench (paper Figure 2, Figure 7): clients read and write files of a
 * file set larger than memory through the guest's page cache. Each operation reads or writes a whole
 * file and takes tens of microseconds of CPU, so a server whose files are cached touches its cache at
 * dbench-like rates (hundreds of MB/s). Files are chosen with Zipf popularity, so the page-cache hit
 * rate, and with it throughput, grows smoothly with the memory the guest has: a miss costs a
 * virtual-disk read (with readahead, one per cluster of the file), an eviction of a written page a
 * write-back. The file set is installed with the image (identical in every VM of the image until
 * written). The clients issue operations in turn, and each operation also touches the memory of the
 * server process serving its client. Throughput is operations per simulated second.
 */
using Memvisor.Core.Util;
using Memvisor.Simulation.Guests;

namespace Memvisor.Simulation.Workloads;

/// <summary>How the file server behaves.</summary>
public sealed record FileServerOptions
{
    /// <summary>Pages in the file set (on the guest's virtual disk).</summary>
    public int FileSetPages { get; init; } = 98304;

    /// <summary>Pages per file.</summary>
    public int PagesPerFile { get; init; } = 16;

    /// <summary>Zipf exponent of file popularity (0: every file equally likely).</summary>
    public double FileZipfExponent { get; init; } = 0.8;

    /// <summary>Fraction of operations that write (the rest read).</summary>
    public double WriteFraction { get; init; } = 0.3;

    /// <summary>CPU time of one whole-file operation with every page in the cache (tens of microseconds, as dbench's).</summary>
    public long OperationCpuNanoseconds { get; init; } = 50_000;

    /// <summary>Clients (as dbench's client count): operations are issued by the clients in turn.</summary>
    public int Clients { get; init; } = 8;

    /// <summary>Anonymous memory of the server process serving each client, touched once per operation of that client.</summary>
    public int ProcessPagesPerClient { get; init; } = 256;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, the value and the rule when an option is invalid.</summary>
    public void Validate()
    {
        if (PagesPerFile < 1 || FileSetPages < PagesPerFile)
        {
            throw new ArgumentException($"File server: {FileSetPages} pages in files of {PagesPerFile} pages; needs at least one file of at least one page.");
        }

        if (!(FileZipfExponent >= 0) || !double.IsFinite(FileZipfExponent))
        {
            throw new ArgumentException($"File server Zipf exponent: {FileZipfExponent}; must be finite and not negative.");
        }

        if (WriteFraction is < 0 or > 1)
        {
            throw new ArgumentException($"File server write fraction: {WriteFraction}; must be between 0 and 1.");
        }

        if (OperationCpuNanoseconds < 1)
        {
            throw new ArgumentException($"File server operation CPU time: {OperationCpuNanoseconds} ns; must be at least 1 ns.");
        }

        if (Clients < 1 || ProcessPagesPerClient < 1)
        {
            throw new ArgumentException($"File server: {Clients} clients with {ProcessPagesPerClient} process pages each; needs at least one client and one page.");
        }
    }
}

/// <summary>A dbench-like file server whose throughput depends on page-cache hits.</summary>
public sealed class FileServerWorkload : IWorkload
{
    private DeterministicRandom? _random;
    private ZipfSampler? _files;
    private int[] _fileOfRank = [];
    private GuestSegment _fileSet;
    private GuestSegment _process;
    private int _client;

    /// <summary>Creates a file server.</summary>
    public FileServerWorkload(FileServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <inheritdoc/>
    public string Name => "fileserver";

    /// <inheritdoc/>
    public string WorkUnit => "operations";

    /// <summary>How the file server behaves.</summary>
    public FileServerOptions Options { get; }

    /// <inheritdoc/>
    public void Attach(GuestOs guest)
    {
        ArgumentNullException.ThrowIfNull(guest);
        var random = guest.ForkRandom(0x4442_454E);
        _random = random;
        var files = Options.FileSetPages / Options.PagesPerFile;
        _fileSet = guest.OpenImageFiles(0x4442_454E_4348_4653UL, files * Options.PagesPerFile, Options.PagesPerFile);
        _process = guest.CreateAnonymous(Options.Clients * Options.ProcessPagesPerClient);
        _files = new ZipfSampler(files, Options.FileZipfExponent);
        // Popular files are scattered over the file set, not the first ones on disk.
        _fileOfRank = new int[files];
        for (var i = 0; i < files; i++)
        {
            var j = random.NextInt32(i + 1);
            _fileOfRank[i] = _fileOfRank[j];
            _fileOfRank[j] = i;
        }
    }

    /// <inheritdoc/>
    public void Run(GuestOs guest, long untilNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(guest);
        var random = _random ?? throw new InvalidOperationException("The file server runs before it was attached to a guest.");
        var files = _files!;
        while (guest.NowNanoseconds < untilNanoseconds)
        {
            var file = _fileOfRank[files.Next(random)];
            var first = _fileSet.First + (file * Options.PagesPerFile);
            var write = random.NextDouble() < Options.WriteFraction;
            for (var i = 0; i < Options.PagesPerFile; i++)
            {
                guest.Access(first + i, write);
            }

            // The client's server process updates its own state.
            _client = (_client + 1) % Options.Clients;
            guest.Write(_process.Page((_client * Options.ProcessPagesPerClient) + random.NextInt32(Options.ProcessPagesPerClient)), guest.NewToken());
            guest.Compute(Options.OperationCpuNanoseconds);
            guest.CompleteWork(1);
        }
    }
}
