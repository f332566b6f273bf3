namespace Tollgate.Backends.Reference.Velma;

/// <summary>A BatchConfig <c>ConversationTypeDef</c>.</summary>
internal sealed record ConversationTypeDef(Guid Id, string Name, string ShortDescription, string DetailedDescription);

/// <summary>A BatchConfig <c>ParticipantRoleDef</c>; null <see cref="AppliesToConversationTypes"/> means every type.</summary>
internal sealed record ParticipantRoleDef(
    Guid Id, string Name, string ShortDescription, string DetailedDescription, IReadOnlyList<Guid>? AppliesToConversationTypes)
{
    public bool AppliesTo(ConversationTypeDef? type) =>
        AppliesToConversationTypes is null || (type is not null && AppliesToConversationTypes.Contains(type.Id));
}

/// <summary>A BatchConfig <c>BehaviorDef</c> (a preset reference expands into one).</summary>
internal sealed record BehaviorDef(
    Guid Id, string Name, string ShortDescription, string DetailedDescription,
    IReadOnlyList<Guid>? AppliesToConversationTypes, IReadOnlyList<Guid>? AppliesToParticipantRoles)
{
    public bool AppliesTo(ConversationTypeDef? type) =>
        AppliesToConversationTypes is null || (type is not null && AppliesToConversationTypes.Contains(type.Id));
}
