/*
 * The closed sets of the scenario model: which guest a VM runs, which workload, how it picks pages, and
 * how its balloon driver behaves. Inside Memvisor these are enums; their names in scenario files are
 * the schema's (docs/scenario.schema.json), and ScenarioNames is the one place that spells them. Where
 * Core has the concept already the model uses Core's type: the salting mode is Core's ShareSaltMode,
 * shares are Core's Shares.
 */
namespace Memvisor.Scenarios;

/// <summary>Which guest operating system a VM runs.</summary>
public enum GuestFlavour
{
    /// <summary>Linux: freed pages keep their stale contents.</summary>
    Linux,

    /// <summary>Windows: zeroes all free memory after boot and runs a zero-page thread.</summary>
    Windows,
}

/// <summary>What a VM runs.</summary>
public enum WorkloadKind
{
    /// <summary>Nothing: the idle guest kernel only.</summary>
    Idle,

    /// <summary>Touches a working set of pages (uniformly, by a Zipf distribution, cyclically or at a stride), in phases.</summary>
    Toucher,

    /// <summary>A file server in the style of dbench: clients read and write a file set through the guest's page cache.</summary>
    FileServer,

    /// <summary>A compute benchmark in the style of SPEC95: private data and program code from the guest image.</summary>
    Compute,

    /// <summary>Fills a buffer with zeros, page by page, over and over.</summary>
    Zeroing,

    /// <summary>An echo server whose network card reaches only low memory (DMA through socket buffers).</summary>
    Network,
}

/// <summary>How a workload chooses which of its pages to touch.</summary>
public enum AccessPattern
{
    /// <summary>Every page equally likely.</summary>
    Uniform,

    /// <summary>Page of rank k with probability proportional to 1 / k^s.</summary>
    Zipf,

    /// <summary>Every page in turn, first to last, over and over: the whole working set each pass (the paper's toucher).</summary>
    Cyclic,

    /// <summary>Every page once per pass, at a fixed stride: 0, s, 2s, ..., then 1, 1 + s, ...</summary>
    Strided,
}

/// <summary>How a VM's balloon driver behaves.</summary>
public enum BalloonDriverSpec
{
    /// <summary>Installed and working.</summary>
    Active,

    /// <summary>Not installed.</summary>
    Absent,

    /// <summary>Installed but disabled.</summary>
    Disabled,

    /// <summary>Working, but allocates slowly.</summary>
    Slow,
}
