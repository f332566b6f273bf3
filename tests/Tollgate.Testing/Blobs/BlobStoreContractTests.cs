using System.Text;

namespace Tollgate.Blobs;

/// <summary>
/// What every <see cref="IBlobStore"/> must do (the data folder now; a shared volume or object store later): inherit and
/// implement <see cref="CreateStore"/>. Keys are fresh per test.
/// </summary>
public abstract class BlobStoreContractTests
{
    private IBlobStore? _store;
    private object? _storeLock;

    /// <summary>Made on first use, once even when the first uses are concurrent (several tests start with parallel calls).</summary>
    protected IBlobStore Store => LazyInitializer.EnsureInitialized(ref _store, ref _storeLock, () => CreateStore());

    protected abstract IBlobStore CreateStore();

    protected static string NewKey(string name = "blob.bin") => "tests/" + Guid.NewGuid().ToString("N") + "/" + name;

    protected static async Task<byte[]?> ReadAsync(IBlobStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key);
        if (stream is null)
        {
            return null;
        }
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    protected static void AssertContent(byte[] expected, byte[]? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "the blob's bytes differ from what was put");
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task ABlob_IsReadBackAsWritten_AsASeekableStream()
    {
        var key = NewKey("dub_1.input");
        var content = Bytes(300_000, 1);
        await Store.PutAsync(key, new MemoryStream(content));

        Assert.True(await Store.ExistsAsync(key));
        await using var stream = await Store.OpenReadAsync(key);
        Assert.NotNull(stream);
        Assert.True(stream.CanSeek);
        Assert.Equal(content.Length, stream.Length);
        stream.Seek(100, SeekOrigin.Begin);
        var tail = new byte[10];
        await stream.ReadExactlyAsync(tail);
        Assert.Equal(content[100..110], tail);
        AssertContent(content, await ReadAsync(Store, key));
    }

    [Fact]
    public async Task AnEmptyBlob_IsABlob()
    {
        var key = NewKey();
        await Store.PutAsync(key, new MemoryStream());
        Assert.True(await Store.ExistsAsync(key));
        AssertContent([], await ReadAsync(Store, key));
    }

    [Fact]
    public async Task APut_ReplacesTheWholeBlob()
    {
        var key = NewKey();
        await Store.PutAsync(key, new MemoryStream(Bytes(50_000, 2)));
        var shorter = Encoding.UTF8.GetBytes("second");
        await Store.PutAsync(key, new MemoryStream(shorter));
        AssertContent(shorter, await ReadAsync(Store, key));
    }

    [Fact]
    public async Task AMissingBlob_IsNull_DoesNotExist_AndDeletesAsFalse()
    {
        var key = NewKey();
        Assert.Null(await Store.OpenReadAsync(key));
        Assert.False(await Store.ExistsAsync(key));
        Assert.False(await Store.DeleteAsync(key));
    }

    [Fact]
    public async Task Deleting_RemovesOnlyThatBlob()
    {
        var key = NewKey("a.wav");
        var sibling = key.Replace("a.wav", "b.wav", StringComparison.Ordinal);
        await Store.PutAsync(key, new MemoryStream([1, 2, 3]));
        await Store.PutAsync(sibling, new MemoryStream([4]));

        Assert.True(await Store.DeleteAsync(key));
        Assert.False(await Store.ExistsAsync(key));
        Assert.Null(await Store.OpenReadAsync(key));
        AssertContent([4], await ReadAsync(Store, sibling));
    }

    [Fact]
    public async Task Listing_AFolder_GivesItsBlobsWithSizeAndTime_AndNothingElse()
    {
        var folder = "tests/" + Guid.NewGuid().ToString("N") + "/";
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await Store.PutAsync(folder + "a.input", new MemoryStream(Bytes(10, 1)));
        await Store.PutAsync(folder + "sub/b.wav", new MemoryStream(Bytes(3, 2)));
        await Store.PutAsync(NewKey("elsewhere.bin"), new MemoryStream(Bytes(5, 3)));
        await Store.DeleteAsync(folder + "gone.bin");

        var listed = new List<BlobInfo>();
        await foreach (var blob in Store.ListAsync(folder))
        {
            listed.Add(blob);
        }
        Assert.Equal([folder + "a.input", folder + "sub/b.wav"], listed.Select(b => b.Key).Order(StringComparer.Ordinal));
        Assert.Equal(10, listed.Single(b => b.Key.EndsWith("a.input", StringComparison.Ordinal)).Length);
        Assert.All(listed, b => Assert.InRange(b.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(1)));
        await foreach (var _ in Store.ListAsync("tests/" + Guid.NewGuid().ToString("N") + "/"))
        {
            Assert.Fail("a folder nothing was put in lists nothing");
        }
    }

    [Fact]
    public async Task APutWhoseSourceFailsMidway_LeavesThePreviousContent_AndNothingOfTheNew()
    {
        var key = NewKey();
        var before = Bytes(10_000, 3);
        await Store.PutAsync(key, new MemoryStream(before));

        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(key, new FailingStream(Bytes(200_000, 4), failAfter: 150_000)));
        AssertContent(before, await ReadAsync(Store, key));

        var fresh = NewKey();
        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(fresh, new FailingStream(Bytes(200_000, 5), failAfter: 70_000)));
        Assert.False(await Store.ExistsAsync(fresh));
    }

    [Fact]
    public async Task ACancelledPut_LeavesNoBlob()
    {
        var key = NewKey();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.PutAsync(key, new MemoryStream(Bytes(1_000, 6)), cancelled.Token));
        Assert.False(await Store.ExistsAsync(key));
    }

    public static TheoryData<string> KeysThatAreRefused() =>
    [
        "",
        "../outside",
        "dubbing/../../outside",
        "dubbing/..",
        "/etc/passwd",
        "dubbing//x",
        "dubbing/",
        "dubbing\\x",
        ".hidden",
        "dubbing/.x.tmp",
        "C:/windows",
        "dubbing/x y",
        "dubbing/ünïcode",
        new string('a', BlobKeys.MaxLength + 1),
    ];

    [Theory]
    [MemberData(nameof(KeysThatAreRefused))]
    public async Task AKeyThatIsNotARelativePathOfPlainSegments_IsRefusedByEveryCall(string key)
    {
        Assert.False(BlobKeys.IsValid(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, new MemoryStream([1])));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.ExistsAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(key));
    }

    /// <summary>Yields its bytes up to <c>failAfter</c>, then fails as a broken upload or disk would.</summary>
    protected sealed class FailingStream(byte[] content, int failAfter) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                throw new IOException("the source broke off");
            }
            var n = Math.Min(Math.Min(count, failAfter - _position), content.Length - _position);
            Array.Copy(content, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
