using System.Buffers;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Codecs;
using Tollgate.Backends.Reference.Containers;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Batch;

/// <summary>How decoding a spooled file ended.</summary>
internal enum FileDecodeResult
{
    /// <summary>The reference has no decoder for the format (or the variant): nothing was delivered.</summary>
    NoDecoder,
    /// <summary>Every sample was delivered.</summary>
    Decoded,
    /// <summary>The compressed data is damaged.</summary>
    Undecodable,
}

/// <summary>
/// Decodes a probed, spooled file in 64 KB chunks (never the whole file in memory) into mono samples: WAV, AIFF and AU
/// with PCM, float or G.711 samples directly; MP3, FLAC, Ogg Vorbis/Opus/FLAC and WebM Opus/Vorbis through their <see cref="CompressedDecoder"/>.
/// </summary>
internal static class FileDecoder
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>Whether <see cref="Decode"/> has a decoder for the file's format.</summary>
    public static bool CanDecode(AudioInfo info) =>
        Header(info) is not null || CompressedDecoder.For(info.Container, info.Codec) is not null;

    public static FileDecodeResult Decode(AudioInfo info, Stream file, IDecodeSink sink, out string? problem)
    {
        problem = null;
        if (Header(info) is { } header)
        {
            return DecodePcm(file, header, sink);
        }
        if (CompressedDecoder.For(info.Container, info.Codec) is not { } decoder)
        {
            return FileDecodeResult.NoDecoder;
        }
        file.Seek(0, SeekOrigin.Begin);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while (decoder.Healthy && (read = file.Read(buffer, 0, ChunkBytes)) > 0)
            {
                decoder.Feed(buffer.AsSpan(0, read), sink);
            }
            decoder.Finish(sink);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            (decoder as IDisposable)?.Dispose();
        }
        switch (decoder.Status)
        {
            case DecoderStatus.Decoding:
                return FileDecodeResult.Decoded;
            case DecoderStatus.Corrupt:
                problem = decoder.Problem;
                return FileDecodeResult.Undecodable;
            default:
                return FileDecodeResult.NoDecoder;
        }
    }

    private static HeaderReader? Header(AudioInfo info) => HeaderReader.For(info.Container switch
    {
        AudioContainer.Wav => SniffedContainer.Wav,
        AudioContainer.Aiff => SniffedContainer.Aiff,
        AudioContainer.Au => SniffedContainer.Au,
        _ => SniffedContainer.Unknown,
    });

    /// <summary>A WAV/AIFF/AU: the header, then the samples it announces (a header the probe accepted but this reader does not leaves the file undecoded).</summary>
    private static FileDecodeResult DecodePcm(Stream file, HeaderReader header, IDecodeSink sink)
    {
        file.Seek(0, SeekOrigin.Begin);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            PcmDecoder? decoder = null;
            long remaining = 0;
            int read;
            while (remaining >= 0 && (read = file.Read(buffer, 0, ChunkBytes)) > 0)
            {
                var span = buffer.AsSpan(0, read);
                if (decoder is null)
                {
                    var used = header.Feed(span);
                    if (header.Status == HeaderStatus.NeedMore)
                    {
                        continue;
                    }
                    if (header.Status != HeaderStatus.Ready)
                    {
                        return FileDecodeResult.NoDecoder;
                    }
                    decoder = new PcmDecoder(header.Header!.Format);
                    sink.Start(decoder.Format.SampleRate);
                    remaining = header.Header.DataBytes ?? long.MaxValue;
                    span = span[used..];
                }
                var take = (int)Math.Min(span.Length, remaining);
                decoder.Decode(span[..take], sink);
                remaining = remaining - take == 0 ? -1 : remaining - take;
            }
            return decoder is null ? FileDecodeResult.NoDecoder : FileDecodeResult.Decoded;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
