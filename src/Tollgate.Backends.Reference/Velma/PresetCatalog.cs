namespace Tollgate.Backends.Reference.Velma;

/// <summary>A behavior preset: its <c>preset:&lt;identifier&gt;</c> name and the BehaviorDef it expands into.</summary>
internal sealed record BehaviorPreset(string Identifier, BehaviorDef Behavior);

/// <summary>
/// The reference's behavior presets (the contracts name <c>preset:complaints</c> as an example and leave the catalog
/// to the service; these are the reference's own, with fixed uuids). Each applies to every conversation type and role.
/// </summary>
internal static class PresetCatalog
{
    public static IReadOnlyList<BehaviorPreset> All { get; } =
    [
        Preset("complaints", "7d7c0c6e-9a51-4a53-8f0e-6b0a5c3e1f01", "Complaints",
            "A speaker complains about a product, service or experience.",
            "Detects a speaker expressing dissatisfaction: describing a problem as unacceptable, blaming the company, or asking for the problem to be fixed."),
        Preset("escalation-request", "7d7c0c6e-9a51-4a53-8f0e-6b0a5c3e1f02", "Escalation request",
            "A speaker asks for a supervisor, manager or another department.",
            "Detects a speaker asking to escalate the conversation: to speak to a manager or supervisor, or to be transferred."),
        Preset("cancellation-intent", "7d7c0c6e-9a51-4a53-8f0e-6b0a5c3e1f03", "Cancellation intent",
            "A speaker wants to cancel a subscription, order or account.",
            "Detects a speaker stating or threatening an intent to cancel, close an account or stop using a service."),
        Preset("refund-request", "7d7c0c6e-9a51-4a53-8f0e-6b0a5c3e1f04", "Refund request",
            "A speaker asks for money back.",
            "Detects a speaker asking for a refund, a credit, a chargeback or compensation."),
        Preset("profanity", "7d7c0c6e-9a51-4a53-8f0e-6b0a5c3e1f05", "Profanity",
            "A speaker uses profane or obscene language.",
            "Detects swearing, obscenities and other profane language, whether or not it is directed at someone."),
        Preset("harassment", "7d7c0c6e-9a51-4a53-8f0e-6b0a5c3e1f06", "Harassment",
            "A speaker insults, threatens or demeans another participant.",
            "Detects personal attacks, threats, slurs and other language meant to intimidate or demean another participant."),
    ];

    public static bool TryGet(string identifier, out BehaviorDef behavior)
    {
        foreach (var preset in All)
        {
            if (preset.Identifier == identifier)
            {
                behavior = preset.Behavior;
                return true;
            }
        }
        behavior = null!;
        return false;
    }

    private static BehaviorPreset Preset(string identifier, string uuid, string name, string shortDescription, string detailed) =>
        new(identifier, new BehaviorDef(Guid.Parse(uuid), name, shortDescription, detailed, null, null));
}
