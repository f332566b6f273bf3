using Tollgate.Audio;

namespace Tollgate.Models;

/// <summary>Which file extensions of the contracts each detected container can stand behind.</summary>
internal static class ContainerExtensions
{
    public static IReadOnlyList<string> For(AudioContainer container) => container switch
    {
        AudioContainer.Wav => ["wav"],
        AudioContainer.Aiff => ["aiff"],
        AudioContainer.Au => ["au"],
        AudioContainer.Flac => ["flac"],
        AudioContainer.Mp3 => ["mp3"],
        AudioContainer.Ogg => ["ogg", "opus"],
        AudioContainer.Mp4 => ["mp4", "m4a", "mov", "3gp", "3gpp"],
        AudioContainer.Matroska => ["webm"],
        AudioContainer.Adts => ["aac"],
        AudioContainer.Amr => ["amr", "3gp", "3gpp"],
        AudioContainer.Asf => ["wma"],
        _ => [],
    };

    /// <summary>Whether a file whose content is <paramref name="container"/> is a format the model accepts.</summary>
    public static bool Accepts(this ModelDescriptor model, AudioContainer container)
    {
        foreach (var extension in For(container))
        {
            if (model.Extensions.Contains(extension))
            {
                return true;
            }
        }
        return false;
    }
}
