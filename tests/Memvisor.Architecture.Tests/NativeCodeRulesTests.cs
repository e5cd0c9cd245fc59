/*
 * Native code stays in one place:
 *   1. Only Memvisor.Native declares P/Invoke methods: no other product assembly has a method marked
 *      PinvokeImpl (what [DllImport] compiles to, and what [LibraryImport]'s generated stub calls), and
 *      no source file outside src/Memvisor.Native, tests and benchmarks included, declares one.
 *   2. Core (the paper) has no unsafe code: its project does not allow unsafe blocks, its module is not
 *      marked unverifiable, and it uses no raw or native memory API (Unsafe, NativeMemory, Marshal).
 *   3. Core touches no files: it references no file-system type (File, Directory, Path, FileStream,
 *      RandomAccess, SafeFileHandle, ...). Swap files and procfs belong to substrates and Linux.
 * Each check also looks at an assembly that does use what is forbidden, so a check that cannot see
 * it fails rather than passing by blindness.
 */
using System.Reflection;
using System.Reflection.Metadata;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Memvisor.Architecture.Tests;

public sealed partial class NativeCodeRulesTests
{
    private static readonly string[] SourceFolders = ["src", "tests", "bench"];

    private static readonly HashSet<string> UnsafeMemoryTypes = new(StringComparer.Ordinal)
    {
        "System.Runtime.CompilerServices.Unsafe",
        "System.Runtime.InteropServices.NativeMemory",
        "System.Runtime.InteropServices.Marshal",
    };

    private static readonly HashSet<string> FileSystemTypes = new(StringComparer.Ordinal)
    {
        "System.IO.File", "System.IO.FileInfo", "System.IO.FileStream", "System.IO.FileSystemInfo",
        "System.IO.Directory", "System.IO.DirectoryInfo", "System.IO.Path", "System.IO.RandomAccess",
        "System.IO.StreamReader", "System.IO.StreamWriter", "System.IO.FileSystemWatcher", "System.IO.DriveInfo",
        "System.IO.MemoryMappedFiles.MemoryMappedFile", "Microsoft.Win32.SafeHandles.SafeFileHandle",
    };

    [Fact]
    public void Only_native_has_pinvoke_methods_in_its_assembly()
    {
        var found = ProductGraph.Projects.Values.ToDictionary(p => p.Name, PInvokeMethods);
        Assert.NotEmpty(found["Memvisor.Native"]);
        var violations = found.Where(f => f.Key != "Memvisor.Native").SelectMany(f => f.Value.Select(m => $"{f.Key}: {m}")).ToList();
        Assert.True(violations.Count == 0, "P/Invoke methods outside Memvisor.Native:\n" + string.Join('\n', violations));
    }

    [Fact]
    public void No_source_file_outside_native_declares_a_native_import()
    {
        var root = ProductGraph.RepositoryRoot;
        var native = Path.Combine(root, "src", "Memvisor.Native") + Path.DirectorySeparatorChar;
        var files = SourceFolders
            .Select(d => Path.Combine(root, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
            .Where(f => !IsBuildOutput(f))
            .Where(f => NativeImport().IsMatch(File.ReadAllText(f)))
            .ToList();
        Assert.Contains(files, f => f.StartsWith(native, StringComparison.Ordinal));
        var violations = files.Where(f => !f.StartsWith(native, StringComparison.Ordinal)).Select(f => Path.GetRelativePath(root, f)).ToList();
        Assert.True(violations.Count == 0, "[DllImport]/[LibraryImport] outside src/Memvisor.Native (add a wrapper there instead):\n" + string.Join('\n', violations));
    }

    [Fact]
    public void Core_has_no_unsafe_code()
    {
        var core = ProductGraph.Projects["Memvisor.Core"];
        Assert.False(AllowsUnsafe(core), "Memvisor.Core.csproj allows unsafe blocks");
        Assert.True(AllowsUnsafe(ProductGraph.Projects["Memvisor.Native"]));
        Assert.False(IsUnverifiable(core), "Memvisor.Core's module is marked unverifiable (it was compiled with unsafe code)");
        Assert.True(IsUnverifiable(ProductGraph.Projects["Memvisor.Native"]));
        Assert.NotEmpty(TypesUsed(ProductGraph.Projects["Memvisor.Simulation"], UnsafeMemoryTypes));
        var used = TypesUsed(core, UnsafeMemoryTypes);
        Assert.True(used.Count == 0, "Memvisor.Core uses raw or native memory: " + string.Join(", ", used));
    }

    [Fact]
    public void Core_uses_no_file_system_type()
    {
        Assert.NotEmpty(TypesUsed(ProductGraph.Projects["Memvisor.Simulation"], FileSystemTypes));
        var used = TypesUsed(ProductGraph.Projects["Memvisor.Core"], FileSystemTypes);
        Assert.True(used.Count == 0, "Memvisor.Core uses the file system: " + string.Join(", ", used));
    }

    private static List<string> PInvokeMethods(ProductProject project)
    {
        using var pe = ProductGraph.OpenAssembly(project);
        var reader = pe.GetMetadataReader();
        var methods = new List<string>();
        foreach (var handle in reader.MethodDefinitions)
        {
            var method = reader.GetMethodDefinition(handle);
            if ((method.Attributes & MethodAttributes.PinvokeImpl) != 0)
            {
                var type = reader.GetTypeDefinition(method.GetDeclaringType());
                methods.Add($"{reader.GetString(type.Namespace)}.{reader.GetString(type.Name)}.{reader.GetString(method.Name)} -> {reader.GetString(reader.GetModuleReference(method.GetImport().Module).Name)}");
            }
        }

        return methods;
    }

    private static List<string> TypesUsed(ProductProject project, HashSet<string> types)
    {
        using var pe = ProductGraph.OpenAssembly(project);
        var reader = pe.GetMetadataReader();
        return reader.TypeReferences
            .Select(h => reader.GetTypeReference(h))
            .Select(t => $"{reader.GetString(t.Namespace)}.{reader.GetString(t.Name)}")
            .Where(types.Contains)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static bool IsUnverifiable(ProductProject project)
    {
        using var pe = ProductGraph.OpenAssembly(project);
        var reader = pe.GetMetadataReader();
        return reader.GetModuleDefinition().GetCustomAttributes()
            .Select(h => reader.GetCustomAttribute(h).Constructor)
            .Where(c => c.Kind == HandleKind.MemberReference)
            .Select(c => reader.GetMemberReference((MemberReferenceHandle)c).Parent)
            .Where(p => p.Kind == HandleKind.TypeReference)
            .Select(p => reader.GetTypeReference((TypeReferenceHandle)p))
            .Any(t => reader.GetString(t.Namespace) == "System.Security" && reader.GetString(t.Name) == "UnverifiableCodeAttribute");
    }

    private static bool AllowsUnsafe(ProductProject project) =>
        XDocument.Load(project.ProjectFile).Descendants("AllowUnsafeBlocks").Any(e => string.Equals(e.Value.Trim(), "true", StringComparison.OrdinalIgnoreCase));

    private static bool IsBuildOutput(string file) =>
        file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    [GeneratedRegex(@"\[\s*(?:System\.Runtime\.InteropServices\.)?(?:DllImport|LibraryImport)(?:Attribute)?\s*\(", RegexOptions.CultureInvariant)]
    private static partial Regex NativeImport();
}
