/*
 * Free-memory states (paper §6.3). The host watches its free memory against four thresholds
 * (high / soft / hard / low: 6 / 4 / 2 / 1% of machine memory) and picks how hard to reclaim:
 *
 *   high  none
 *   soft  ballooning; paging only for VMs that cannot balloon
 *   hard  forcible paging
 *   low   paging, and VMs above their target are blocked
 *
 * Going down is immediate: a lower state is entered as soon as free memory falls below that state's
 * threshold (a sudden drop may skip states: high straight to hard). Going up needs hysteresis: the
 * next higher state is entered only once free memory reaches that state's threshold plus the margin
 * (AllocationOptions.HysteresisPercent), and the climb repeats while it can, so a large jump (a VM
 * powering off) returns to high in one update. So in high the host tolerates free memory down to the
 * soft threshold, and once in soft it stays there until free memory is back above high + margin.
 * This is the paper's "transition to a lower state when free memory drops below the lower threshold;
 * back to the next higher state only after significantly exceeding the higher threshold".
 */
namespace Memvisor.Core.Allocation;

/// <summary>How much free memory the host has, from plenty (<see cref="High"/>) to almost none (<see cref="Low"/>).</summary>
public enum FreeMemoryState
{
    /// <summary>Enough free memory: no reclamation.</summary>
    High,

    /// <summary>Free memory fell below the soft threshold: reclaim by ballooning.</summary>
    Soft,

    /// <summary>Free memory fell below the hard threshold: reclaim by forcible paging.</summary>
    Hard,

    /// <summary>Free memory fell below the low threshold: page, and block VMs above their target.</summary>
    Low,
}

/// <summary>The reclamation a free-memory state calls for.</summary>
public enum ReclamationAction
{
    /// <summary>Nothing to reclaim.</summary>
    None,

    /// <summary>Inflate balloons towards the targets; host-swap only VMs that cannot balloon.</summary>
    Balloon,

    /// <summary>Host-swap pages of VMs above their target.</summary>
    Swap,

    /// <summary>Host-swap, and block the execution of VMs above their target.</summary>
    SwapAndBlock,
}

/// <summary>Tracks the free-memory state with hysteresis and counts its transitions.</summary>
public sealed class FreeMemoryStateMachine
{
    private static readonly FreeMemoryState[] States = Enum.GetValues<FreeMemoryState>();

    private readonly AllocationOptions _options;
    private readonly long[] _entries = new long[States.Length];

    /// <summary>A machine that starts in <see cref="FreeMemoryState.High"/> (a host with nothing running has all memory free).</summary>
    public FreeMemoryStateMachine(AllocationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The current state.</summary>
    public FreeMemoryState State { get; private set; } = FreeMemoryState.High;

    /// <summary>The reclamation the current state calls for.</summary>
    public ReclamationAction Reclamation => ReclamationFor(State);

    /// <summary>State changes so far (an update that moves several states at once counts once).</summary>
    public long Transitions { get; private set; }

    /// <summary>The reclamation <paramref name="state"/> calls for.</summary>
    public static ReclamationAction ReclamationFor(FreeMemoryState state) => state switch
    {
        FreeMemoryState.High => ReclamationAction.None,
        FreeMemoryState.Soft => ReclamationAction.Balloon,
        FreeMemoryState.Hard => ReclamationAction.Swap,
        FreeMemoryState.Low => ReclamationAction.SwapAndBlock,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a free-memory state."),
    };

    /// <summary>How many times <paramref name="state"/> has been entered.</summary>
    public long Entries(FreeMemoryState state) => _entries[(int)state];

    /// <summary>
    /// Moves to the state that <paramref name="freePages"/> free out of <paramref name="totalPages"/> machine
    /// pages calls for and returns it. Does not allocate.
    /// </summary>
    public FreeMemoryState Update(long freePages, long totalPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalPages);
        ArgumentOutOfRangeException.ThrowIfNegative(freePages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(freePages, totalPages);

        var state = State;

        // Down: to the lowest state whose threshold free memory is below.
        for (var lower = FreeMemoryState.Low; lower > state; lower--)
        {
            if (freePages < _options.ThresholdPages(lower, totalPages))
            {
                state = lower;
                break;
            }
        }

        // Up (only if not just moved down): one state at a time, each needing its threshold plus the margin.
        if (state == State)
        {
            while (state > FreeMemoryState.High && freePages >= _options.ReentryPages(state - 1, totalPages))
            {
                state--;
            }
        }

        if (state != State)
        {
            State = state;
            Transitions++;
            _entries[(int)state]++;
        }

        return state;
    }
}
