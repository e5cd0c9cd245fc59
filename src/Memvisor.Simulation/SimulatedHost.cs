/*
 * The simulated host: a whole scenario run end to end in simulated time (`memvisor simulate`).
 *
 * From a Scenario it builds machine memory in native memory (the host's memory less what ESX keeps for
 * itself, host.reservedMB), a swap file, the MemoryManager, the host
 * policy (HostMemoryController) with options taken from the HostSpec, and one simulated guest OS per
 * VmSpec (flavour, image, workload, balloon driver). The deterministic EventEngine then drives it:
 *   - each VM powers on at powerOnSeconds (admission control may refuse it: the VM is then recorded as
 *     refused and stays off for the whole run, as ESX leaves a VM off that it cannot admit) and off at
 *     powerOffSeconds;
 *   - each running guest runs in quanta (QuantumSeconds) unless the policy blocks it (low state), in
 *     which case it is descheduled (its clock advances, nothing in it runs);
 *   - the host swap device (SwapDisk: latency per request, bandwidth, one request at a time)
 *     serves the guests' host swap-ins (each waits until its request completes) and the policy's
 *     page-outs (the policy pages only what the device can write within its tick);
 *   - the policy advances on its own tick (PolicyTickSeconds); the controller (Core's owning
 *     substrate: HostMemoryController over the MemoryManager) hears how long each guest really ran in
 *     each quantum (its clock less host and guest stalls; nothing while descheduled), and the policy's
 *     sampling periods run on that;
 *   - one HostSample is taken every sampleIntervalSeconds from Core's statistics, the policy, the
 *     balloons, the sampler and the guests' own counters (throughput, true working set, mismatches).
 * Everything is seeded from scenario.Seed and nothing reads the wall clock, so a scenario and seed
 * always give the same samples. Salting "zeroOnly" is Core's UniformPagesAcrossVms: all-0x00 and all-0xFF
 * pages share across VMs, every other page only within its VM.
 */
using System.Globalization;
using Memvisor.Core.Allocation;
using Memvisor.Core.Balloon;
using Memvisor.Core.Host;
using Memvisor.Core.Host.Owning;
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Core.Sampling;
using Memvisor.Scenarios;
using Memvisor.Core.Sharing;
using Memvisor.Core.Statistics;
using Memvisor.Core.Swap;
using Memvisor.Simulation.Engine;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Memory;

namespace Memvisor.Simulation;

/// <summary>How the simulator slices time.</summary>
public sealed record SimulationOptions
{
    /// <summary>Simulated seconds a guest runs between two checks of the policy's blocking (default 20 ms).</summary>
    public double QuantumSeconds { get; init; } = 0.02;

    /// <summary>Simulated seconds between two steps of the host policy (default 100 ms).</summary>
    public double PolicyTickSeconds { get; init; } = 0.1;

    /// <summary>Wraps the run's swap file (tests inject device faults); null uses the file as it is.</summary>
    public Func<ISwapDevice, ISwapDevice>? SwapDevice { get; init; }

    /// <summary>Whether Core's consistency check runs at the end of the run (it throws on a broken invariant).</summary>
    public bool CheckConsistencyAtEnd { get; init; } = true;

    /// <summary>
    /// Adjusts the policy options the scenario's host stands for, for a free parameter the scenario format
    /// does not carry (experiments sweep the estimator's gains with it); null runs the scenario's policy as it is.
    /// </summary>
    public Func<HostPolicyOptions, HostPolicyOptions>? Policy { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when an option is invalid.</summary>
    public void Validate()
    {
        if (!(QuantumSeconds > 0) || !double.IsFinite(QuantumSeconds))
        {
            throw new ArgumentException($"Simulation QuantumSeconds: {QuantumSeconds}; must be a positive number.");
        }

        if (!(PolicyTickSeconds > 0) || !double.IsFinite(PolicyTickSeconds))
        {
            throw new ArgumentException($"Simulation PolicyTickSeconds: {PolicyTickSeconds}; must be a positive number.");
        }
    }
}

/// <summary>Where a run stands: reported after each sample.</summary>
/// <param name="SimulatedSeconds">Simulated seconds done.</param>
/// <param name="DurationSeconds">Simulated seconds in the whole run.</param>
/// <param name="Sample">The sample just taken.</param>
public sealed record SimulationProgress(double SimulatedSeconds, double DurationSeconds, HostSample Sample);

/// <summary>What a run produced.</summary>
/// <param name="Record">Samples, state log, Core's counters and notes: everything reporting needs.</param>
public sealed record SimulationResult(RunRecord Record)
{
    /// <summary>One sample per interval, in time order.</summary>
    public IReadOnlyList<HostSample> Samples => Record.Samples;

    /// <summary>What the run could not do as the scenario said (refused VMs, approximations).</summary>
    public IReadOnlyList<string> Notes => Record.Notes;
}

/// <summary>A scenario's host, VMs and guests in simulated time.</summary>
public sealed class SimulatedHost : IDisposable
{
    private readonly Scenario _scenario;
    private readonly SimulationOptions _options;
    private readonly NativeMachineMemory _memory;
    private readonly MemoryManager _manager;
    private readonly HostMemoryController _controller;
    private readonly EventEngine _engine = new();
    private readonly SwapDisk _swapDevice;
    private readonly SimulatedVm[] _vms;
    private readonly List<string> _notes = [];
    private readonly List<StateTransition> _stateLog = [];
    private readonly List<VmStop> _stops = [];
    private readonly LatencyModel _latency;
    private long _lastFullCompares;

    /// <summary>Builds the host of <paramref name="scenario"/> (nothing runs until <see cref="Run"/>).</summary>
    /// <exception cref="ScenarioException">The scenario fails <see cref="Validate"/>.</exception>
    /// <exception cref="ArgumentException">An option is invalid (the caller's mistake, not the scenario's).</exception>
    public SimulatedHost(Scenario scenario, SimulationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        Validate(scenario);
        _scenario = scenario;
        _options = options ?? new SimulationOptions();
        _options.Validate();
        var host = scenario.Host;
        var machinePages = MachinePages(host);
        var swapPages = checked((int)PageGeometry.PagesFromMegabytes(host.SwapMB));
        _memory = new NativeMachineMemory(machinePages);
        ISwapDevice swapFile = SwapFile.CreateTemporary(host.SwapDirectory);
        _manager = new MemoryManager(_memory, _options.SwapDevice?.Invoke(swapFile) ?? swapFile, new HostMemoryOptions
        {
            SwapCapacityPages = swapPages,
            ShareSaltMode = host.Salting,
            Seed = scenario.Seed,
        });
        var policy = PolicyOptions(host);
        _controller = new HostMemoryController(_manager, _options.Policy?.Invoke(policy) ?? policy, scenario.Seed);
        var latency = LatencyModel.From(scenario.Latencies);
        _swapDevice = new SwapDisk(latency.HostSwapInNanoseconds, latency.SwapDeviceMegabytesPerSecond);
        _controller.Memory.SwapDevice = new EngineSwapDevice(_swapDevice, _engine);
        _vms = [.. scenario.Vms.Select((spec, i) => new SimulatedVm(spec, i))];
        _latency = latency;
    }

    /// <summary>
    /// Every check the simulator makes of a scenario, made whole before anything runs (the reader's
    /// checks plus what Core's options and VM configurations require); the constructor calls it.
    /// </summary>
    /// <exception cref="ScenarioException">Lists every problem found, one line each.</exception>
    public static void Validate(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var errors = new List<string>();
        if (scenario.DurationSeconds < scenario.SampleIntervalSeconds)
        {
            // From the file or from --duration: a run that ends before its first sample has nothing to report.
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"durationSeconds: {scenario.DurationSeconds} s is shorter than sampleIntervalSeconds ({scenario.SampleIntervalSeconds} s): the run would take no sample."));
        }
        else if (scenario.DurationSeconds / scenario.SampleIntervalSeconds > ScenarioLimits.MaxSamples)
        {
            // From the file or from --duration: every sample is kept for the outputs, so their number is bounded.
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"durationSeconds: {scenario.DurationSeconds} s at one sample every {scenario.SampleIntervalSeconds} s is {Math.Floor(scenario.DurationSeconds / scenario.SampleIntervalSeconds)} samples; expected at most {ScenarioLimits.MaxSamples} (a longer sampleIntervalSeconds or a shorter run)."));
        }

        Check(errors, "host.memoryMB", () => _ = MachinePages(scenario.Host));
        Check(errors, "host.swapMB", () => _ = checked((int)PageGeometry.PagesFromMegabytes(scenario.Host.SwapMB)));
        Check(errors, "host", () => PolicyOptions(scenario.Host).Validate());
        foreach (var (field, rate) in new[] { ("shareScanPerVmPagesPerSecond", scenario.Host.ShareScanPerVmPagesPerSecond), ("shareScanHostPagesPerSecond", scenario.Host.ShareScanHostPagesPerSecond) })
        {
            if (rate > ScenarioLimits.MaxShareScanPagesPerSecond)
            {
                // The reader's bound, for scenarios built in code: the simulator does the work a rate asks for.
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"host.{field}: {rate} pages/s; expected at most {ScenarioLimits.MaxShareScanPagesPerSecond} (4 GiB hashed per second)."));
            }
        }

        for (var i = 0; i < scenario.Vms.Count; i++)
        {
            var spec = scenario.Vms[i];
            Check(errors, $"vms[{i}] ('{spec.Name}')", () => Config(spec).Validate());
            GuestFit.Check(scenario, i, errors);
        }

        if (errors.Count > 0)
        {
            throw new ScenarioException($"scenario '{scenario.Name}'", errors);
        }
    }

    /// <summary>The machine pages the VMkernel manages for VMs: the host's memory less what ESX keeps for itself (host.reservedMB).</summary>
    private static int MachinePages(HostSpec host)
    {
        if (!(host.ReservedMB >= 0) || host.ReservedMB >= host.MemoryMB)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"reservedMB {host.ReservedMB} must be at least 0 and less than memoryMB ({host.MemoryMB}): the VMs need some memory."));
        }

        return checked((int)PageGeometry.PagesFromMegabytes(host.MemoryMB - host.ReservedMB));
    }

    private static void Check(List<string> errors, string field, Action check)
    {
        try
        {
            check();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            errors.Add($"{field}: {e.Message}");
        }
    }

    /// <summary>Host CPU the sharing scanner used so far (hashing, full comparisons), simulated nanoseconds: taken from the VMs whose pages it scanned.</summary>
    public long ScannerNanoseconds { get; private set; }

    /// <summary>The policy (for tests and live views).</summary>
    public HostMemoryController Controller => _controller;

    /// <summary>The host policy options a HostSpec stands for (the same on every substrate: ScenarioPolicy).</summary>
    public static HostPolicyOptions PolicyOptions(HostSpec host) => ScenarioPolicy.Options(host);

    /// <summary>Runs the whole scenario; <paramref name="progress"/> hears of every sample (synchronously, on this thread).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public SimulationResult Run(IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var duration = EventEngine.Nanoseconds(_scenario.DurationSeconds);
        var interval = EventEngine.Nanoseconds(_scenario.SampleIntervalSeconds);
        var tick = EventEngine.Nanoseconds(_options.PolicyTickSeconds);
        var recorder = RunRecorder.For(_scenario);
        foreach (var vm in _vms)
        {
            _engine.ScheduleAt(EventEngine.Nanoseconds(vm.Spec.PowerOnSeconds), () => PowerOn(vm));
            if (vm.Spec.PowerOffSeconds is { } off)
            {
                _engine.ScheduleAt(EventEngine.Nanoseconds(off), () => PowerOff(vm));
            }
        }

        var tickSpan = TimeSpan.FromTicks(tick / 100);
        _engine.SchedulePeriodic(tick, tick, () =>
        {
            var before = _controller.States.State;
            _controller.Tick(tickSpan);
            ChargeScanner();
            if (_controller.States.State != before)
            {
                // The exact log: samples (one per interval) would miss an excursion shorter than an interval.
                _stateLog.Add(new StateTransition(Seconds(_engine.NowNanoseconds), StateName(before), StateName(_controller.States.State)));
            }

            return true;
        });
        _engine.SchedulePeriodic(interval, interval, () =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sample = TakeSample(interval);
            recorder.Record(sample);
            progress?.Report(new SimulationProgress(sample.TimeSeconds, _scenario.DurationSeconds, sample));
            return true;
        });
        _engine.RunUntil(duration);
        if (_options.CheckConsistencyAtEnd)
        {
            _manager.CheckConsistency();
        }

        var vmStats = _vms.Where(v => v.LastStats is not null).Select(v => v.Running ? _manager.GetVmStats(v.Guest!.Id) : v.LastStats!).ToList();
        return new SimulationResult(new RunRecord(
            _scenario, recorder.Samples, _stateLog, Seconds(_engine.NowNanoseconds), _engine.EventsRun, _manager.GetHostStats(), vmStats, _notes, _stops));
    }

    /// <summary>Frees machine memory and the swap file.</summary>
    public void Dispose()
    {
        _manager.Dispose();
        _memory.Dispose();
    }

    private void PowerOn(SimulatedVm vm)
    {
        var spec = vm.Spec;
        var config = Config(spec);
        var pages = config.MaxPages;
        GuestPhysicalMemory memory;
        try
        {
            memory = GuestPhysicalMemory.Attach(_manager, _memory, pages, mapping => _controller.PowerOn(config, mapping));
        }
        catch (AdmissionException e)
        {
            _notes.Add($"VM '{spec.Name}' was refused at power-on ({spec.PowerOnSeconds} s) and stayed off: {e.Message}");
            _stops.Add(new VmStop(spec.Name, Seconds(_engine.NowNanoseconds), VmStopCause.AdmissionRefused, e.Message));
            return;
        }

        if (spec.BalloonTargetMB is { } pinned)
        {
            // Validated against the limit in MiB; rounding to pages may put it one page over.
            _controller.Balloons.PinTarget(memory.Id, Math.Min((int)PageGeometry.PagesFromMegabytes(pinned), _controller.Balloons.LimitOf(memory.Id)));
        }

        var options = GuestCatalog.Options(spec, _scenario.Seed, vm.Index, _scenario.Latencies) with { HostSwapDevice = _swapDevice };
        var guest = GuestOs.Create(memory, options, GuestCatalog.Workload(spec.Workload), _engine.NowNanoseconds);
        if (Driver(spec) is { } driverOptions)
        {
            guest.InstallBalloonDriver(_controller.Balloons.ChannelOf(memory.Id), driverOptions);
        }

        vm.Guest = guest;
        vm.Running = true;
        vm.LastStats = _manager.GetVmStats(memory.Id);
        var quantum = EventEngine.Nanoseconds(_options.QuantumSeconds);
        _engine.SchedulePeriodic(_engine.NowNanoseconds, quantum, () =>
        {
            if (!vm.Running)
            {
                return false;
            }

            var until = _engine.NowNanoseconds + quantum;
            if (_controller.IsBlocked(guest.Id))
            {
                guest.Deschedule(until);
            }
            else
            {
                // VM execution time: the guest's clock, less what it spent stalled on host swap-in and faults
                // or on its own disk (the paper's sampling periods run on this).
                var executed = guest.ExecutionNanoseconds;
                try
                {
                    guest.RunUntil(until);
                }
                catch (Exception e) when (e is MachineMemoryExhaustedException or SwapReadException)
                {
                    // The host cannot serve this VM: it stops it, as a real host would, and the others run on.
                    Stop(vm, e is SwapReadException ? VmStopCause.SwapReadFailed : VmStopCause.MachineMemoryExhausted, e.Message);
                    return false;
                }

                _controller.Memory.AddExecutionTime(guest.Id, TimeSpan.FromTicks((guest.ExecutionNanoseconds - executed) / 100));
            }

            return true;
        });
    }

    /// <summary>
    /// The sharing scanner runs on the CPUs the VMs run on: what it hashed and compared in the last tick
    /// (LatencyModel: per page hashed, per full comparison) is taken from the running VMs, each paying for
    /// its own pages and for the comparisons in proportion to them.
    /// </summary>
    private void ChargeScanner()
    {
        var compares = _manager.HostCounters.FullCompares;
        var newCompares = compares - _lastFullCompares;
        _lastFullCompares = compares;
        long scanned = 0;
        foreach (var vm in _vms)
        {
            if (vm.Running)
            {
                var total = _manager.CountersOf(vm.Guest!.Id).PagesScanned;
                vm.ScannedSinceTick = total - vm.LastPagesScanned;
                vm.LastPagesScanned = total;
                scanned += vm.ScannedSinceTick;
            }
        }

        if (scanned == 0)
        {
            return;
        }

        foreach (var vm in _vms)
        {
            if (vm.Running && vm.ScannedSinceTick > 0)
            {
                var ns = (vm.ScannedSinceTick * _latency.ShareScanHashNanoseconds) + (newCompares * _latency.ShareCompareNanoseconds * vm.ScannedSinceTick / scanned);
                vm.Guest!.ChargeHostCpu(ns);
                ScannerNanoseconds += ns;
            }
        }
    }

    private void Stop(SimulatedVm vm, VmStopCause cause, string detail)
    {
        var stop = new VmStop(vm.Spec.Name, Seconds(_engine.NowNanoseconds), cause, detail);
        _stops.Add(stop);
        _notes.Add($"VM '{stop.Vm}' was stopped at {stop.TimeSeconds} s ({cause}): {detail}");
        PowerOff(vm);
    }

    private static VmConfig Config(VmSpec spec) => ScenarioPolicy.Config(spec);

    private void PowerOff(SimulatedVm vm)
    {
        if (!vm.Running)
        {
            return;
        }

        vm.LastStats = _manager.GetVmStats(vm.Guest!.Id);
        vm.Running = false;
        _controller.PowerOff(vm.Guest.Id);
    }

    private BalloonDriverOptions? Driver(VmSpec spec) =>
        GuestCatalog.BalloonDriver(spec) is { } options
            ? options with
            {
                // The driver keeps to the host's limits too (the host enforces them either way).
                MaxBalloonPercent = _scenario.Host.BalloonMaxPercent,
                MaxBalloonPages = spec.BalloonMaxMB is { } cap ? (int)PageGeometry.PagesFromMegabytes(cap) : null,
            }
            : null;

    private HostSample TakeSample(long intervalNanoseconds)
    {
        var seconds = intervalNanoseconds / (double)EventEngine.NanosecondsPerSecond;
        var window = EventEngine.Nanoseconds(_scenario.Host.SamplingPeriodSeconds);
        var samples = new VmSample[_vms.Length];
        double balloonTotal = 0;
        for (var i = 0; i < _vms.Length; i++)
        {
            var vm = _vms[i];
            if (!vm.Running)
            {
                samples[i] = new VmSample { Name = vm.Spec.Name, ConfiguredMB = vm.Spec.MemoryMB, MinMB = vm.Spec.MinMB, PoweredOn = false, DataMismatches = vm.Guest?.Counters.DataMismatches ?? 0 };
                continue;
            }

            var guest = vm.Guest!;
            var id = guest.Id;
            var stats = _manager.GetVmStats(id);
            var policy = _controller.PolicyOf(id);
            var counters = guest.Counters;
            var io = _manager.GetIoRemapStats(id);
            var guestSwap = counters.GuestSwapOuts + counters.GuestSwapIns;
            var balloon = _controller.Balloons.SizeOf(id);
            balloonTotal += balloon;
            samples[i] = new VmSample
            {
                Name = vm.Spec.Name,
                ConfiguredMB = MB(stats.ConfiguredPages),
                MinMB = MB(stats.MinPages),
                Shares = _controller.SharesOf(id),
                TargetMB = MB(policy.TargetPages),
                GrantedMB = MB(stats.GrantedPages),
                PrivateMB = MB(stats.PrivatePages),
                ActiveEstimateMB = MB(_controller.ActivePagesOf(id)),
                TrueWorkingSetMB = MB(guest.TouchedPages(window)),
                BalloonMB = MB(balloon),
                BalloonTargetMB = MB(_controller.Balloons.TargetOf(id)),
                SwappedMB = MB(stats.SwappedPages),
                SwapTargetMB = MB(policy.SwapTargetPages),
                SharedMB = MB(stats.SharedPages),
                SharedSavedMB = MB(stats.SharedSavedPages),
                ZeroMB = MB(stats.ZeroPages),
                OverheadMB = MB(stats.OverheadPages),
                Throughput = (counters.WorkUnits - vm.LastWorkUnits) / seconds,
                GuestSwapPages = guestSwap - vm.LastGuestSwap,
                HostSwapInPages = stats.Counters.SwapIns - vm.LastStats!.Counters.SwapIns,
                BounceCopies = io.BounceCopies - vm.LastBounceCopies,
                DataMismatches = counters.DataMismatches,
                DoublePagingPages = counters.DoublePagingReads - vm.LastDoublePaging,
                IoRemaps = io.Remaps - vm.LastRemaps,
            };
            vm.LastRemaps = io.Remaps;
            vm.LastDoublePaging = counters.DoublePagingReads;
            vm.LastWorkUnits = counters.WorkUnits;
            vm.LastGuestSwap = guestSwap;
            vm.LastBounceCopies = io.BounceCopies;
            vm.LastStats = stats;
        }

        var host = _manager.GetHostStats();
        return new HostSample
        {
            TimeSeconds = Seconds(_engine.NowNanoseconds),
            MemoryMB = MB(host.TotalPages),
            FreeMB = MB(host.FreePages),
            State = StateName(_controller.States.State),
            SharedSavedMB = MB(host.SavedPages),
            SwapUsedMB = MB(host.SwapUsedPages),
            BalloonMB = MB(balloonTotal),
            Vms = samples,
        };
    }

    private static double Seconds(long nanoseconds) => nanoseconds / (double)EventEngine.NanosecondsPerSecond;

    private static string StateName(FreeMemoryState state) => state.ToString().ToLowerInvariant();

    private static double MB(double pages) => pages * PageGeometry.PageSizeBytes / (1024.0 * 1024.0);

    /// <summary>The swap device as the policy's page-outs see it: submitted at the engine's time (the policy's tick).</summary>
    private sealed class EngineSwapDevice(SwapDisk device, EventEngine engine) : ISwapDeviceTiming
    {
        public int WritablePages(TimeSpan horizon) => device.WritablePages(engine.NowNanoseconds, horizon.Ticks * 100);

        public void SubmitWrite(int pages) => device.Submit(engine.NowNanoseconds, pages);
    }

    private sealed class SimulatedVm(VmSpec spec, int index)
    {
        public VmSpec Spec { get; } = spec;

        public int Index { get; } = index;

        public GuestOs? Guest { get; set; }

        public bool Running { get; set; }

        public VmMemoryStats? LastStats { get; set; }

        public long LastWorkUnits { get; set; }

        public long LastGuestSwap { get; set; }

        public long LastBounceCopies { get; set; }

        public long LastDoublePaging { get; set; }

        public long LastRemaps { get; set; }

        public long LastPagesScanned { get; set; }

        public long ScannedSinceTick { get; set; }
    }
}
