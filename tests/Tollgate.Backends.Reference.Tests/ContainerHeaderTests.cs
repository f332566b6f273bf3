using System.Buffers.Binary;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Batch;
using Tollgate.Backends.Reference.Codecs;
using Tollgate.Backends.Reference.Containers;

namespace Tollgate.Backends.Reference;

public sealed class ContainerHeaderTests
{
    [Fact]
    public void Wav_ByteByByte_FindsTheDataAfterAnOddSizedChunk()
    {
        var wav = TestSignals.Wav(new float[1600], 16_000, extraChunk: true);
        var reader = new WavHeaderReader();
        var consumed = 0;
        while (reader.Status == HeaderStatus.NeedMore)
        {
            consumed += reader.Feed(wav.AsSpan(consumed, 1));
        }

        Assert.Equal(HeaderStatus.Ready, reader.Status);
        Assert.Equal(44 + 14, consumed);
        Assert.Equal(16_000, reader.Header!.Format.SampleRate);
        Assert.Equal("s16le", reader.Header.Format.Sample.Name);
        Assert.Equal(3200, reader.Header.DataBytes);
    }

    /// <summary>
    /// An RF64 whose ds64 data size is 2^63 or more (negative as a long): found by fuzzing, it reached span[..negative]
    /// in the batch decoder (a 500). The size says nothing a file can have, so the samples present are read, as the probe measures them.
    /// </summary>
    [Theory]
    [InlineData(unchecked((long)0x8000_0000_0000_0000))]
    [InlineData(-1L)]
    public void Rf64WithANegativeDs64DataSize_ReadsTheSamplesPresent(long ds64Data)
    {
        var data = new byte[3200];
        byte[] rf64 =
        [
            .. "RF64"u8, 0xFF, 0xFF, 0xFF, 0xFF, .. "WAVE"u8,
            .. "ds64"u8, 28, 0, 0, 0, .. new byte[8], .. Le64(ds64Data), .. new byte[8], 0, 0, 0, 0,
            .. "fmt "u8, 16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3E, 0, 0, 0x00, 0x7D, 0, 0, 2, 0, 16, 0,
            .. "data"u8, 0xFF, 0xFF, 0xFF, 0xFF, .. data,
        ];
        var reader = new WavHeaderReader();
        reader.Feed(rf64);
        Assert.Equal(HeaderStatus.Ready, reader.Status);
        Assert.Null(reader.Header!.DataBytes);

        var probe = AudioProbe.Probe(new MemoryStream(rf64));
        Assert.True(probe.Success, probe.Detail);
        Assert.Equal(100, probe.Info.DurationMs);
        var sink = new CountingSink();
        Assert.Equal(FileDecodeResult.Decoded, FileDecoder.Decode(probe.Info, new MemoryStream(rf64), sink, out _));
        Assert.Equal(1600, sink.Samples);
    }

    private static byte[] Le64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    private sealed class CountingSink : IDecodeSink
    {
        public long Samples { get; private set; }

        public void Start(int sampleRate)
        {
        }

        public void Write(ReadOnlySpan<float> samples) => Samples += samples.Length;
    }

    [Fact]
    public void Aiff_ReadsItsExtendedSampleRate()
    {
        var reader = new AiffHeaderReader();
        var aiff = TestSignals.Aiff(new float[100], 22_050);

        var consumed = reader.Feed(aiff);

        Assert.Equal(HeaderStatus.Ready, reader.Status);
        Assert.Equal(54, consumed);
        Assert.Equal((22_050, "s16be", 200L), (reader.Header!.Format.SampleRate, reader.Header.Format.Sample.Name, reader.Header.DataBytes!.Value));
    }

    [Fact]
    public void Au_SkipsItsAnnotation()
    {
        var reader = new AuHeaderReader();
        var au = TestSignals.Au(new float[100], 8_000);

        Assert.Equal(28, reader.Feed(au));
        Assert.Equal((8_000, "mulaw", 100L), (reader.Header!.Format.SampleRate, reader.Header.Format.Sample.Name, reader.Header.DataBytes!.Value));
    }

    [Fact]
    public void Wav_WithAdpcmSamples_IsNotPcm()
    {
        var wav = TestSignals.Wav(new float[10], 16_000);
        wav[20] = 0x11;

        var reader = new WavHeaderReader();
        reader.Feed(wav);

        Assert.Equal(HeaderStatus.NotPcm, reader.Status);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 })]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 0, 0, 0, 0, (byte)'A', (byte)'V', (byte)'I', (byte)' ' })]
    public void Wav_Garbage_IsInvalid(byte[] bytes)
    {
        var reader = new WavHeaderReader();
        reader.Feed(bytes);
        Assert.Equal(HeaderStatus.Invalid, reader.Status);
    }

    [Fact]
    public void Sniffer_KnowsContainers_AndNotRawSamples()
    {
        Assert.Equal(SniffedContainer.Wav, ContainerSniffer.Identify(TestSignals.Wav([0f], 8000)));
        Assert.Equal(SniffedContainer.Aiff, ContainerSniffer.Identify(TestSignals.Aiff([0f], 8000)));
        Assert.Equal(SniffedContainer.Au, ContainerSniffer.Identify(TestSignals.Au([0f], 8000)));
        Assert.Equal(SniffedContainer.Compressed, ContainerSniffer.Identify("OggS\0\u0002\0\0\0\0\0\0"u8));
        Assert.Equal(SniffedContainer.Unknown, ContainerSniffer.Identify(TestSignals.Encode(TestSignals.Bursts(8000, 0.01, [(0, 1)]), TestSignals.Format("s16le"))));
    }
}
