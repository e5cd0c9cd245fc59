namespace Memvisor.Native;

/// <summary>Symbolic names of Linux errno values (the generic table shared by x86-64 and arm64).</summary>
public static class ErrnoNames
{
    private static readonly string[] LowNames =
    [
        "0", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
        "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
        "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
        "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP",
    ];

    /// <summary>The name of <paramref name="errno"/>, or "errno N" when it is not in the table.</summary>
    public static string NameOf(int errno) => errno switch
    {
        > 0 and < 41 => LowNames[errno],
        75 => "EOVERFLOW",
        95 => "EOPNOTSUPP",
        110 => "ETIMEDOUT",
        125 => "ECANCELED",
        _ => $"errno {errno}",
    };
}
