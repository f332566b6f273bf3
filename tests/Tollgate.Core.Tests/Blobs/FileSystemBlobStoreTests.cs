namespace Tollgate.Blobs;

/// <summary>The blob store in a folder (the data directory): the contract, and what it leaves on disk.</summary>
public sealed class FileSystemBlobStoreTests : BlobStoreContractTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tollgate-blobs", Guid.NewGuid().ToString("N"));

    protected override IBlobStore CreateStore() => new FileSystemBlobStore(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task AKey_IsThePathOfItsFile_UnderTheRoot()
    {
        await Store.PutAsync("dubbing/dub_1.input", new MemoryStream([1, 2, 3]));
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(_root, "dubbing", "dub_1.input")));
        Assert.Equal(Path.Combine(_root, "dubbing", "dub_1.input"), ((FileSystemBlobStore)Store).PathOf("dubbing/dub_1.input"));
    }

    [Fact]
    public async Task TheTemporaryFileOfAPutCutShortByACrash_IsNotListed_AndIsRemovedOnceOld()
    {
        await Store.PutAsync("dubbing/dub_1.input", new MemoryStream([1]));
        // What a kill -9 mid-put leaves: the hidden temporary file beside the target.
        var old = Path.Combine(_root, "dubbing", ".dub_2.input." + Guid.NewGuid().ToString("N") + ".tmp");
        var fresh = Path.Combine(_root, "dubbing", ".dub_3.input." + Guid.NewGuid().ToString("N") + ".tmp");
        await File.WriteAllBytesAsync(old, [2]);
        await File.WriteAllBytesAsync(fresh, [3]);
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-2));

        var listed = new List<string>();
        await foreach (var blob in Store.ListAsync("dubbing/"))
        {
            listed.Add(blob.Key);
        }
        Assert.Equal(["dubbing/dub_1.input"], listed);

        // Only what is older than the cut-off goes: a fresh one may be another node's write still running.
        Assert.Equal(1, ((FileSystemBlobStore)Store).RemoveInterruptedWrites(DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(fresh));
        Assert.Equal([1], await ReadAsync(Store, "dubbing/dub_1.input"));
    }

    [Fact]
    public async Task AFailedPut_LeavesNoFileBehind_NeitherUnderTheKeyNorAsATemporary()
    {
        await Store.PutAsync("dubbing/keep.wav", new MemoryStream([9]));
        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync("dubbing/broken.wav", new FailingStream(new byte[100_000], failAfter: 40_000)));
        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync("dubbing/keep.wav", new FailingStream(new byte[100_000], failAfter: 40_000)));
        Assert.Equal(["keep.wav"], Directory.GetFiles(Path.Combine(_root, "dubbing")).Select(Path.GetFileName));
        Assert.Equal([9], await File.ReadAllBytesAsync(Path.Combine(_root, "dubbing", "keep.wav")));
    }

    [Fact]
    public async Task AReaderOpenDuringAnOverwrite_GoesOnReadingWhatItOpened()
    {
        await Store.PutAsync("dubbing/r.wav", new MemoryStream([1, 1, 1, 1]));
        await using var reader = await Store.OpenReadAsync("dubbing/r.wav");
        await Store.PutAsync("dubbing/r.wav", new MemoryStream([2, 2]));
        using var copy = new MemoryStream();
        await reader!.CopyToAsync(copy);
        Assert.Equal([1, 1, 1, 1], copy.ToArray());
        Assert.Equal([2, 2], await File.ReadAllBytesAsync(Path.Combine(_root, "dubbing", "r.wav")));
    }
}
