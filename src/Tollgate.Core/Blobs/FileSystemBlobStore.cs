using System.Runtime.InteropServices;

namespace Tollgate.Blobs;

/// <summary>
/// Blobs as files under one folder (the data directory): key <c>dubbing/dub_1.input</c> is the file
/// <c>{root}/dubbing/dub_1.input</c>. A put writes a hidden temporary file beside the target, flushes it to disk,
/// renames it over the target (atomic on one file system) and flushes the folder, so a kill -9 or power loss leaves
/// the old content or the new, never part of it, under the key.
/// </summary>
internal sealed class FileSystemBlobStore : IBlobStore
{
    private const int BufferSize = 64 * 1024;

    public FileSystemBlobStore(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>The file a key is kept in (after checking the key).</summary>
    public string PathOf(string key)
    {
        BlobKeys.Validate(key);
        var path = Path.GetFullPath(Path.Combine(Root, key));
        // Belt and braces: a valid key cannot leave the root, but nothing outside it is ever touched if one did.
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{key}' is not a blob key inside the store.", nameof(key));
        }
        return path;
    }

    public async Task PutAsync(string key, Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var path = PathOf(key);
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, BufferSize, ct);
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        FlushFolder(folder);
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default)
    {
        var path = PathOf(key);
        try
        {
            // FileShare.Delete: a reader never blocks an overwrite or delete; it goes on reading what it opened.
            Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, FileOptions.Asynchronous);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<bool> DeleteAsync(string key, CancellationToken ct = default)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }
        File.Delete(path);
        FlushFolder(Path.GetDirectoryName(path)!);
        return Task.FromResult(true);
    }

    public Task<bool> ExistsAsync(string key, CancellationToken ct = default) => Task.FromResult(File.Exists(PathOf(key)));

    public async IAsyncEnumerable<BlobInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        // The folder the prefix names (or lies in): only it and what is under it can hold matching keys.
        var folder = Path.Combine(Root, prefix.Contains('/') ? prefix[..prefix.LastIndexOf('/')] : "");
        if (!Directory.Exists(folder))
        {
            yield break;
        }
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            ct.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!key.StartsWith(prefix, StringComparison.Ordinal) || !BlobKeys.IsValid(key))
            {
                continue; // a write in progress (hidden temporary file) or a file that is no blob
            }
            var info = new FileInfo(file);
            if (info.Exists)
            {
                yield return new BlobInfo(key, info.Length, info.LastWriteTimeUtc);
            }
        }
        await Task.CompletedTask;
    }

    /// <summary>
    /// Deletes the temporary files of writes that never finished (the process died mid-put) and were last touched
    /// before <paramref name="before"/>; a write still running on another node sharing the folder is younger. The
    /// number of files removed.
    /// </summary>
    public int RemoveInterruptedWrites(DateTimeOffset before)
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(Root, ".*.tmp", SearchOption.AllDirectories))
        {
            if (File.GetLastWriteTimeUtc(file) < before.UtcDateTime)
            {
                File.Delete(file);
                removed++;
            }
        }
        return removed;
    }

    /// <summary>
    /// Makes a rename or delete in <paramref name="folder"/> durable (fsync of the directory, POSIX). .NET cannot open
    /// a directory as a file, so this asks libc; elsewhere (Windows) the rename is already journaled by NTFS.
    /// </summary>
    private static void FlushFolder(string folder)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            return;
        }
        var fd = Posix.Open(folder, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Could not open {folder} to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Posix.Fsync(fd) != 0)
            {
                throw new IOException($"Could not flush {folder} to disk (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Posix.Close(fd);
        }
    }

    /// <summary>Plain DllImport (the project allows no unsafe code, which LibraryImport's generated stubs need).</summary>
    private static class Posix
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
