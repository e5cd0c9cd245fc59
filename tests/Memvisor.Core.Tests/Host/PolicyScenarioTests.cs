using Memvisor.Core.Host;
using Memvisor.Core.Host.Owning;
using Memvisor.Core.Memory;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests.Host;

/// <summary>The policy's scenarios over the plain fake of its ports.</summary>
public sealed class FakePolicyScenarioTests : PolicyScenarioSuite
{
    protected override IPolicyScenarioHost CreateHost(int machinePages, int swapPages, HostPolicyOptions options) =>
        new FakePolicyScenarioHost(machinePages, swapPages, options);
}

/// <summary>The policy's scenarios over the owning substrate: MemoryManager, balloon host, sampler, with guests faulting through recording mappings.</summary>
public sealed class OwningPolicyScenarioTests : PolicyScenarioSuite
{
    protected override IPolicyScenarioHost CreateHost(int machinePages, int swapPages, HostPolicyOptions options) =>
        new OwningPolicyScenarioHost(machinePages, swapPages, options);

    /// <summary>A swap device that can write a fixed number of pages within any tick, whatever was written before.</summary>
    private sealed class FixedSwapDevice(int pagesPerTick) : ISwapDeviceTiming
    {
        public int WritablePages(TimeSpan horizon) => pagesPerTick;

        public void SubmitWrite(int pages) => Assert.InRange(pages, 1, pagesPerTick);
    }

    private sealed class OwningPolicyScenarioHost(int machinePages, int swapPages, HostPolicyOptions options) : IPolicyScenarioHost
    {
        private readonly TestHost _host = new(machinePages, swapPages);
        private readonly Dictionary<VmId, Guest> _guests = [];
        private HostMemoryController? _controller;

        private HostMemoryController Controller => _controller ??= new HostMemoryController(_host.Manager, options, seed: 3);

        public HostMemoryPolicy Policy => Controller.Policy;

        public long FreePages => _host.Manager.Pool.FreePages;

        public VmId PowerOn(VmConfig config, bool balloonDriver)
        {
            var memory = TestGuest.Attach(_host.Manager, _host.Memory, config.MaxPages, mapping => Controller.PowerOn(config, mapping));
            var driver = balloonDriver ? new TestBalloonDriver(Controller.Balloons.ChannelOf(memory.Id), config.MaxPages, batchPages: 64) : null;
            _guests.Add(memory.Id, new Guest(memory, driver));
            return memory.Id;
        }

        public void SetWorkload(VmId vm, int usedPages, int activePages)
        {
            var guest = _guests[vm];
            guest.ActivePages = activePages;
            Touch(guest, usedPages);
        }

        public void SetRunning(VmId vm, bool running) => _guests[vm].Running = running;

        public void Step()
        {
            foreach (var guest in _guests.Values)
            {
                if (guest.Running && !Controller.IsBlocked(guest.Memory.Id))
                {
                    Touch(guest, guest.ActivePages);
                    Controller.Memory.AddExecutionTime(guest.Memory.Id, Tick);
                }

                guest.Driver?.Poll();
            }

            Controller.Tick(Tick);
        }

        public int BalloonPages(VmId vm) => Controller.Balloons.SizeOf(vm);

        public int BalloonTargetPages(VmId vm) => Controller.Balloons.TargetOf(vm);

        public int PagedOutPages(VmId vm) => _host.Manager.SwappedPagesOf(vm);

        public bool IsBlockedBySubstrate(VmId vm) => Controller.Memory.IsBlocked(vm);

        public void ModelSwapDevice(int pagesPerTick) => Controller.Memory.SwapDevice = new FixedSwapDevice(pagesPerTick);

        public void Dispose()
        {
            _host.Manager.CheckConsistency();
            _host.Dispose();
        }

        /// <summary>The guest writes its top <paramref name="pages"/> pages, leaving alone those its balloon driver holds.</summary>
        private static void Touch(Guest guest, int pages)
        {
            var size = guest.Memory.PageCount;
            for (var p = size - pages; p < size; p++)
            {
                var ppn = new Ppn((uint)p);
                if (guest.Driver?.Holds(ppn) != true)
                {
                    guest.Memory.Write(ppn, 16, [(byte)(p + 1)]);
                }
            }
        }

        private sealed class Guest(TestGuest memory, TestBalloonDriver? driver)
        {
            public TestGuest Memory { get; } = memory;

            public TestBalloonDriver? Driver { get; } = driver;

            public int ActivePages { get; set; }

            public bool Running { get; set; } = true;
        }
    }
}
