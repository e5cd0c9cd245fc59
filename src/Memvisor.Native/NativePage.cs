namespace Memvisor.Native;

/// <summary>The page size the wrappers work in: 4 KiB, the x86-64 base page (Core's page size too; checked against the host at mapping time).</summary>
public static class NativePage
{
    /// <summary>Bytes in one page.</summary>
    public const int SizeBytes = 4096;
}
