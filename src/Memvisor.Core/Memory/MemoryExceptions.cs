namespace Memvisor.Core.Memory;

/// <summary>A VM cannot be powered on: the host cannot guarantee what it needs.</summary>
public sealed class AdmissionException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public AdmissionException(string message) : base(message)
    {
    }
}

/// <summary>No machine page could be found or reclaimed for a guest access.</summary>
public sealed class MachineMemoryExhaustedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public MachineMemoryExhaustedException(string message) : base(message)
    {
    }
}

/// <summary>The memory manager's bookkeeping disagrees with itself (a bug; reported by <see cref="MemoryManager.CheckConsistency"/>).</summary>
public sealed class MemoryInconsistencyException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public MemoryInconsistencyException(string message) : base(message)
    {
    }
}
