namespace Tollgate.Backends.Reference.Pcm;

/// <summary>Receives decoded audio as mono samples in [-1, 1], in order, in blocks of any size.</summary>
internal interface IMonoSink
{
    void Write(ReadOnlySpan<float> samples);
}
