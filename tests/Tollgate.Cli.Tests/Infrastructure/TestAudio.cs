namespace Tollgate.Infrastructure;

/// <summary>Small, valid audio files built in memory.</summary>
internal static class TestAudio
{
    /// <summary>16-bit PCM mono WAV: a 440 Hz tone of <paramref name="seconds"/>.</summary>
    public static byte[] Wav(double seconds, int sampleRate = 16_000)
    {
        var samples = (int)(seconds * sampleRate);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.ASCII, leaveOpen: true))
        {
            writer.Write("RIFF"u8);
            writer.Write(36 + samples * 2);
            writer.Write("WAVE"u8);
            writer.Write("fmt "u8);
            writer.Write(16);
            writer.Write((short)1); // PCM
            writer.Write((short)1); // mono
            writer.Write(sampleRate);
            writer.Write(sampleRate * 2);
            writer.Write((short)2);
            writer.Write((short)16);
            writer.Write("data"u8);
            writer.Write(samples * 2);
            for (var i = 0; i < samples; i++)
            {
                writer.Write((short)(8000 * Math.Sin(2 * Math.PI * 440 * i / sampleRate)));
            }
        }
        return stream.ToArray();
    }
}
