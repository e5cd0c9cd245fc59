namespace Memvisor.Core.Ports;

/// <summary>
/// How a guest page is mapped after Core's last <see cref="IGuestMapping"/> call for it: the three
/// states the port's three methods put a page in. Substrates keep it per page; tests observe it.
/// </summary>
public enum GuestPageAccess : byte
{
    /// <summary>Not mapped (never, or after Invalidate): the next access faults.</summary>
    None = 0,

    /// <summary>Mapped read-only (MapReadOnly: a shared, copy-on-write page): a write faults.</summary>
    ReadOnly = 1,

    /// <summary>Mapped writable (MapWritable).</summary>
    Writable = 2,
}
