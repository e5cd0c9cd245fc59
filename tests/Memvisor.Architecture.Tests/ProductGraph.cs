/*
 * The reference graph of Memvisor's product projects (src/*), read twice: from each project file's
 * ProjectReference items (what the build allows) and from each built assembly's references (what the
 * compiled code uses). An edge in either counts, so a rule fails on a reference added to a project file
 * before any code uses it, and on one that arrives some other way.
 *
 * The repository root is found by walking up from the test's folder to Memvisor.slnx; the assemblies
 * are the ones this project's wildcard ProjectReference copied next to it.
 */
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace Memvisor.Architecture.Tests;

/// <summary>One product project: its name, its assembly's name and file, and its references to other product projects.</summary>
internal sealed record ProductProject(string Name, string AssemblyName, string ProjectFile, string AssemblyFile, IReadOnlySet<string> ProjectReferences, IReadOnlySet<string> AssemblyReferences)
{
    /// <summary>Product projects this one references, by project file or by compiled assembly.</summary>
    public IEnumerable<string> References => ProjectReferences.Union(AssemblyReferences).Order(StringComparer.Ordinal);

    /// <summary>Where the reference to <paramref name="other"/> was seen (for failure messages).</summary>
    public string Evidence(string other) =>
        (ProjectReferences.Contains(other), AssemblyReferences.Contains(other)) switch
        {
            (true, true) => "ProjectReference and compiled assembly reference",
            (true, false) => "ProjectReference in " + Path.GetFileName(ProjectFile),
            _ => "compiled assembly reference",
        };
}

/// <summary>Memvisor's product projects and the references between them.</summary>
internal static class ProductGraph
{
    private static readonly Lazy<IReadOnlyDictionary<string, ProductProject>> Graph = new(Read);

    /// <summary>The repository's root folder (where Memvisor.slnx is).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Every product project under src/, by project name.</summary>
    public static IReadOnlyDictionary<string, ProductProject> Projects => Graph.Value;

    /// <summary>The project named <paramref name="name"/>, or null when it does not exist (yet).</summary>
    public static ProductProject? Find(string name) => Projects.GetValueOrDefault(name);

    /// <summary>The PE image of a product assembly, for reading its metadata (the caller disposes it).</summary>
    public static PEReader OpenAssembly(ProductProject project) => new(File.OpenRead(project.AssemblyFile));

    private static Dictionary<string, ProductProject> Read()
    {
        var files = Directory.GetFiles(Path.Combine(RepositoryRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToArray();
        var names = files.ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => f, StringComparer.Ordinal);
        var assemblyNames = names.ToDictionary(n => n.Key, n => AssemblyNameOf(n.Value, n.Key), StringComparer.Ordinal);
        var projectOfAssembly = assemblyNames.ToDictionary(n => n.Value, n => n.Key, StringComparer.OrdinalIgnoreCase);
        var result = new Dictionary<string, ProductProject>(StringComparer.Ordinal);
        foreach (var (name, file) in names)
        {
            var projectRefs = XDocument.Load(file).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(((string?)r.Attribute("Include") ?? "").Replace('\\', Path.DirectorySeparatorChar)))
                .ToHashSet(StringComparer.Ordinal);
            var assemblyFile = Path.Combine(AppContext.BaseDirectory, assemblyNames[name] + ".dll");
            using var pe = new PEReader(File.OpenRead(assemblyFile));
            var reader = pe.GetMetadataReader();
            var assemblyRefs = reader.AssemblyReferences
                .Select(h => reader.GetString(reader.GetAssemblyReference(h).Name))
                .Where(projectOfAssembly.ContainsKey)
                .Select(a => projectOfAssembly[a])
                .ToHashSet(StringComparer.Ordinal);
            result[name] = new ProductProject(name, assemblyNames[name], file, assemblyFile, projectRefs, assemblyRefs);
        }

        return result;
    }

    private static string AssemblyNameOf(string projectFile, string projectName) =>
        XDocument.Load(projectFile).Descendants("AssemblyName").Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0) ?? projectName;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Memvisor.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Memvisor.slnx above {AppContext.BaseDirectory}: the architecture tests read the repository's project files.");
    }
}
