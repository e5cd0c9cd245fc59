/*
 * The greeting a QMP server sends on connect:
 *   {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}, "package": "..."}, "capabilities": ["oob"]}}
 * The client must then send qmp_capabilities before any other command. Memvisor enables no
 * capability (out-of-band execution is not needed: its commands are short).
 */
using System.Text.Json;

namespace Memvisor.Qemu.Qmp;

/// <summary>What the server said about itself on connect.</summary>
/// <param name="Major">QEMU's major version.</param>
/// <param name="Minor">QEMU's minor version.</param>
/// <param name="Micro">QEMU's micro version.</param>
/// <param name="Package">The distribution's package string (may be empty).</param>
/// <param name="Capabilities">Capabilities the server offers (e.g. "oob").</param>
public sealed record QmpGreeting(int Major, int Minor, int Micro, string Package, IReadOnlyList<string> Capabilities)
{
    /// <summary>The version as "major.minor.micro".</summary>
    public string Version => $"{Major}.{Minor}.{Micro}";

    /// <summary>Reads a greeting from the "QMP" member's value; null when it is not one.</summary>
    internal static QmpGreeting? Parse(JsonElement qmp)
    {
        if (qmp.ValueKind != JsonValueKind.Object
            || !qmp.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Object
            || !version.TryGetProperty("qemu", out var qemu) || qemu.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var package = version.TryGetProperty("package", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() ?? "" : "";
        var capabilities = new List<string>();
        if (qmp.TryGetProperty("capabilities", out var caps) && caps.ValueKind == JsonValueKind.Array)
        {
            foreach (var cap in caps.EnumerateArray())
            {
                if (cap.ValueKind == JsonValueKind.String)
                {
                    capabilities.Add(cap.GetString()!);
                }
            }
        }

        return new QmpGreeting(Number(qemu, "major"), Number(qemu, "minor"), Number(qemu, "micro"), package, capabilities);
    }

    private static int Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var n) && n.TryGetInt32(out var value) ? value : 0;
}
