namespace Memvisor.Testing;

/// <summary>A fresh temporary folder for one test's outputs, deleted on dispose.</summary>
public sealed class OutputFolder : IDisposable
{
    public OutputFolder() => Path = Directory.CreateTempSubdirectory("memvisor-report-").FullName;

    public string Path { get; }

    /// <summary>Every file under the folder, relative, '/' separated, in ordinal order.</summary>
    public IReadOnlyList<string> Files() =>
        [.. Directory.GetFiles(Path, "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(Path, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    public string Full(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
