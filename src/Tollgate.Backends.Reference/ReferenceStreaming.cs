using Tollgate.Backends.Reference.Streaming;

namespace Tollgate.Backends.Reference;

/// <summary>
/// The reference backend's streaming channels. Audio is decoded as it arrives: raw formats (<c>s8</c> … <c>f64be</c>,
/// <c>mulaw</c>, <c>alaw</c>), WAV/AIFF/AU (header read incrementally, split anywhere), and MP3, FLAC and Ogg
/// Vorbis/Opus/FLAC and WebM Opus/Vorbis through the managed decoders (<see cref="Codecs.CompressedDecoder"/>); it is analysed as it
/// arrives: energy segmentation for utterances and clips, 4 s voice-activity windows for synthetic voice, 192 ms
/// heuristic frames for music. Formats with no decoder here (AAC, MP4, WMA, AMR) are spooled to a delete-on-close
/// temporary file (at most <see cref="AudioSpool.MaxBytes"/>), probed for their duration at the end and answered as
/// one undetermined span.
/// </summary>
internal static class ReferenceStreaming
{
    public static IStreamAnalyzer Create(StreamSettings settings) => new StreamAnalyzer(settings, ModelStream.For(settings));
}
