namespace Tollgate.Audio;

/// <summary>How one raw (headerless) sample is encoded.</summary>
internal enum SampleEncoding
{
    SignedInt,
    UnsignedInt,
    Float,
    MuLaw,
    ALaw,
}

/// <summary>
/// A raw streaming layout named by the contracts' <c>audio_format</c> values
/// (<c>s8</c> … <c>f64be</c>, <c>mulaw</c>, <c>alaw</c>).
/// </summary>
internal readonly record struct RawSampleFormat(string Name, SampleEncoding Encoding, int BytesPerSample, bool BigEndian)
{
    /// <summary>Bytes of one frame (one sample for every channel).</summary>
    public int FrameSize(int channels) => BytesPerSample * channels;

    /// <summary>Whole milliseconds of audio in <paramref name="bytes"/> bytes: bytes ÷ (rate × channels × sample size).</summary>
    public long DurationMs(long bytes, int sampleRate, int channels) =>
        sampleRate <= 0 || channels <= 0 ? 0 : bytes / FrameSize(channels) * 1000 / sampleRate;

    public static bool TryParse(string? name, out RawSampleFormat format)
    {
        format = name switch
        {
            "s8" => new("s8", SampleEncoding.SignedInt, 1, false),
            "u8" => new("u8", SampleEncoding.UnsignedInt, 1, false),
            "s16le" => new("s16le", SampleEncoding.SignedInt, 2, false),
            "s16be" => new("s16be", SampleEncoding.SignedInt, 2, true),
            "u16le" => new("u16le", SampleEncoding.UnsignedInt, 2, false),
            "u16be" => new("u16be", SampleEncoding.UnsignedInt, 2, true),
            "s24le" => new("s24le", SampleEncoding.SignedInt, 3, false),
            "s24be" => new("s24be", SampleEncoding.SignedInt, 3, true),
            "u24le" => new("u24le", SampleEncoding.UnsignedInt, 3, false),
            "u24be" => new("u24be", SampleEncoding.UnsignedInt, 3, true),
            "s32le" => new("s32le", SampleEncoding.SignedInt, 4, false),
            "s32be" => new("s32be", SampleEncoding.SignedInt, 4, true),
            "u32le" => new("u32le", SampleEncoding.UnsignedInt, 4, false),
            "u32be" => new("u32be", SampleEncoding.UnsignedInt, 4, true),
            "f32le" => new("f32le", SampleEncoding.Float, 4, false),
            "f32be" => new("f32be", SampleEncoding.Float, 4, true),
            "f64le" => new("f64le", SampleEncoding.Float, 8, false),
            "f64be" => new("f64be", SampleEncoding.Float, 8, true),
            "mulaw" => new("mulaw", SampleEncoding.MuLaw, 1, false),
            "alaw" => new("alaw", SampleEncoding.ALaw, 1, false),
            _ => default,
        };
        return format.Name is not null;
    }
}
