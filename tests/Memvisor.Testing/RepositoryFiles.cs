namespace Memvisor.Testing;

/// <summary>Files of the repository the tests run from (docs, schema), found by walking up to Memvisor.slnx.</summary>
public static class RepositoryFiles
{
    /// <summary>The full path of <paramref name="relative"/> ('/' separated, from the repository's root).</summary>
    public static string Path(string relative)
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir, "Memvisor.slnx")))
        {
            dir = System.IO.Path.GetDirectoryName(dir);
        }

        return dir is null
            ? throw new InvalidOperationException("Memvisor.slnx not found above " + AppContext.BaseDirectory)
            : System.IO.Path.Combine(dir, relative);
    }
}
