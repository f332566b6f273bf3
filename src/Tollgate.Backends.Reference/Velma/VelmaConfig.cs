using Tollgate.Backends.Reference.Options;

namespace Tollgate.Backends.Reference.Velma;

/// <summary>
/// A validated velma-2 <c>BatchConfig</c> (the batch <c>config</c> field or the streaming first frame), with the
/// contract's rules for omitted keys already applied: omitted candidates and fallbacks are the built-in ones
/// (<see cref="VelmaDefaults"/>), omitted behaviors are none, the <c>produce_*</c> switches default to true.
/// </summary>
internal sealed record VelmaConfig
{
    /// <summary>What <c>default</c> (or an omitted config) loads.</summary>
    public static readonly VelmaConfig Default = new();

    public IReadOnlyList<ConversationTypeDef> ConversationTypes { get; init; } = VelmaDefaults.ConversationTypes;
    public IReadOnlyList<ParticipantRoleDef> ParticipantRoles { get; init; } = VelmaDefaults.ParticipantRoles;
    public IReadOnlyList<BehaviorDef> Behaviors { get; init; } = [];
    public SttOptions Stt { get; init; } = SttOptions.Default;
    public bool ProduceTopics { get; init; } = true;
    public bool ProduceTopicSentiments { get; init; } = true;
    public bool ProduceSummary { get; init; } = true;

    /// <summary>The fallback conversation type; null when the config disabled it.</summary>
    public ConversationTypeDef? DefaultConversationType { get; init; } = VelmaDefaults.FallbackConversationType;

    /// <summary>The fallback participant role; null when the config disabled it.</summary>
    public ParticipantRoleDef? DefaultParticipantRole { get; init; } = VelmaDefaults.FallbackParticipantRole;
}
