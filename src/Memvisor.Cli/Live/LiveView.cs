/*
 * The live table a run shows on a terminal, in the style of esxtop's memory panel: a progress line, the
 * host's line (machine memory, free memory and the free-memory state, sharing, swap, balloon), and one
 * row per VM with esxtop's column names, in whole MB so that it fits 80-100 columns:
 *   MEMSZ configured size · SZTGT allocation target · GRANT memory granted · ACTV active estimate ·
 *   TRUEWS the working set the workload really touched (a simulator-only truth; "-" where unknown) ·
 *   MCTLSZ / MCTLTGT balloon size and target · SWCUR / SWTGT swapped and swap target · SHRD shared ·
 *   ZERO zero pages · OVHD overhead. Built from one HostSample, so every substrate shows the same view.
 */
using System.Globalization;
using Memvisor.Scenarios;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Memvisor.Cli.Live;

/// <summary>Renders one frame of the live table.</summary>
internal static class LiveView
{
    /// <summary>esxtop's memory panel columns shown per VM, in order.</summary>
    public static IReadOnlyList<string> VmColumns { get; } =
        ["MEMSZ", "SZTGT", "GRANT", "ACTV", "TRUEWS", "MCTLSZ", "MCTLTGT", "SWCUR", "SWTGT", "SHRD", "ZERO", "OVHD"];

    /// <summary>
    /// The frame for a run of <paramref name="scenarioName"/> at <paramref name="sample"/> (null before the
    /// first sample: only the progress line).
    /// </summary>
    public static IRenderable Render(string scenarioName, ulong seed, double durationSeconds, HostSample? sample)
    {
        var done = sample?.TimeSeconds ?? 0;
        var fraction = durationSeconds > 0 ? Math.Clamp(done / durationSeconds, 0, 1) : 1;
        const int width = 30;
        var filled = (int)Math.Round(fraction * width);
        var bar = string.Create(CultureInfo.InvariantCulture, $"[green]{new string('━', filled)}[/][grey]{new string('━', width - filled)}[/] {fraction * 100,3:0}%  {done:0}/{durationSeconds:0} s");
        var header = new Markup($"[bold]{Markup.Escape(scenarioName)}[/] seed {seed}  {bar}");
        if (sample is null)
        {
            return header;
        }

        var host = new Markup(string.Create(
            CultureInfo.InvariantCulture,
            $"PMEM {sample.MemoryMB:0} MB  free {sample.FreeMB:0}  state [bold]{Markup.Escape(sample.State)}[/]  saved by sharing {sample.SharedSavedMB:0}  swap {sample.SwapUsedMB:0}  balloon {sample.BalloonMB:0}"));
        var table = new Table().Border(TableBorder.Simple).Title("MB");
        table.AddColumn(new TableColumn("VM").PadLeft(0).NoWrap());
        foreach (var name in VmColumns)
        {
            table.AddColumn(new TableColumn(name).RightAligned().NoWrap().PadLeft(1).PadRight(0));
        }

        table.AddColumn(new TableColumn("STATE").NoWrap().PadLeft(2));
        foreach (var vm in sample.Vms)
        {
            table.AddRow(
                Markup.Escape(vm.Name),
                Mb(vm.ConfiguredMB),
                Mb(vm.TargetMB),
                Mb(vm.GrantedMB),
                Mb(vm.ActiveEstimateMB),
                Mb(vm.TrueWorkingSetMB),
                Mb(vm.BalloonMB),
                Mb(vm.BalloonTargetMB),
                Mb(vm.SwappedMB),
                Mb(vm.SwapTargetMB),
                Mb(vm.SharedMB),
                Mb(vm.ZeroMB),
                Mb(vm.OverheadMB),
                !vm.PoweredOn ? "[grey]off[/]" : vm.DataMismatches > 0 ? "[red]DATA LOSS[/]" : "on");
        }

        return new Rows(header, host, table);
    }

    private static string Mb(double value) => double.IsNaN(value) ? "-" : value.ToString("0", CultureInfo.InvariantCulture);
}
