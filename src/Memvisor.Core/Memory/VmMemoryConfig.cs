namespace Memvisor.Core.Memory;

/// <summary>
/// What the memory manager needs to know about a VM at power-on (paper §2, §6.1): its configured size
/// (max, fixed after boot), its guaranteed minimum, its overhead memory, and its page-sharing salt.
/// </summary>
public sealed record VmMemoryConfig
{
    /// <summary>A name for tables and errors.</summary>
    public required string Name { get; init; }

    /// <summary>Configured memory in pages: the guest's physical memory size (max).</summary>
    public required int MaxPages { get; init; }

    /// <summary>Guaranteed memory in pages (min): never reclaimed below this.</summary>
    public int MinPages { get; init; }

    /// <summary>Host memory for the VM's frame buffer, pmap and shadow page tables, in pages.</summary>
    public int OverheadPages { get; init; }

    /// <summary>
    /// Page-sharing salt (ESXi's sched.mem.pshare.salt): VMs share pages only with VMs of the same
    /// salt. Null: the host's default (one salt for all, or one per VM).
    /// </summary>
    public ulong? ShareSalt { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and rule when the configuration is invalid.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("VM name: must not be empty.");
        }

        if (MaxPages <= 0)
        {
            throw new ArgumentException($"VM '{Name}' max: {MaxPages} pages; must be at least 1 page.");
        }

        if (MinPages < 0 || MinPages > MaxPages)
        {
            throw new ArgumentException($"VM '{Name}' min: {MinPages} pages; must be between 0 and max ({MaxPages} pages).");
        }

        if (OverheadPages < 0)
        {
            throw new ArgumentException($"VM '{Name}' overhead: {OverheadPages} pages; must not be negative.");
        }
    }
}

/// <summary>How page-sharing salts are assigned to VMs that do not set their own (ESXi's Mem.ShareForceSalting).</summary>
public enum ShareSaltMode
{
    /// <summary>One salt for all VMs: any two VMs may share (the paper's behaviour).</summary>
    SingleSalt,

    /// <summary>Each VM its own salt: pages are shared only within a VM (ESXi's default since 2014).</summary>
    PerVm,

    /// <summary>
    /// Each VM its own salt, except for pages whose bytes are all 0x00 or all 0xFF: those share across all
    /// VMs (the rule Windows applies across security domains; such a page tells another VM nothing but
    /// that it exists). A VM with an explicit salt keeps it for every other page.
    /// </summary>
    UniformPagesAcrossVms,
}

/// <summary>Host-wide settings of the memory manager.</summary>
public sealed record HostMemoryOptions
{
    /// <summary>Swap area in pages. Admission reserves max - min of each VM in it.</summary>
    public int SwapCapacityPages { get; init; }

    /// <summary>Salt assignment for VMs without their own salt.</summary>
    public ShareSaltMode ShareSaltMode { get; init; } = ShareSaltMode.SingleSalt;

    /// <summary>Seed of every random choice the manager makes (scan candidates, swap victims).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Pages written per swap I/O batch (clustered writes).</summary>
    public int SwapBatchPages { get; init; } = 64;

    /// <summary>The content hash of page sharing (injectable to test collisions).</summary>
    public Sharing.IPageHasher Hasher { get; init; } = Sharing.XxHash3PageHasher.Instance;
}
