namespace Tollgate.Backends.Reference.Velma;

/// <summary>
/// The reference's built-in conversation types and participant roles, used when a BatchConfig omits them (the
/// contract says built-in defaults exist but does not list them; these are the reference's own, with fixed uuids).
/// </summary>
internal static class VelmaDefaults
{
    public static readonly ConversationTypeDef CustomerSupport = new(
        Guid.Parse("5b0f7a52-1c3e-4e0a-9a39-2f4f6f0d1a01"), "Customer support call",
        "A customer contacts a company's support agent about a problem or question.",
        "A conversation between a customer and a support agent: troubleshooting, account questions, complaints and resolutions.");

    public static readonly ConversationTypeDef Sales = new(
        Guid.Parse("5b0f7a52-1c3e-4e0a-9a39-2f4f6f0d1a02"), "Sales call",
        "A sales representative talks with a prospective or existing customer.",
        "A conversation in which a representative presents, negotiates or closes the sale of a product or service.");

    public static readonly ConversationTypeDef Meeting = new(
        Guid.Parse("5b0f7a52-1c3e-4e0a-9a39-2f4f6f0d1a03"), "Meeting",
        "Colleagues discuss work together.",
        "A scheduled discussion among colleagues or partners: status updates, planning and decisions.");

    public static readonly ConversationTypeDef General = new(
        Guid.Parse("5b0f7a52-1c3e-4e0a-9a39-2f4f6f0d1a00"), "General conversation",
        "Any conversation that fits no more specific type.",
        "The fallback conversation type, used when no candidate conversation type applies.");

    public static readonly ParticipantRoleDef Agent = new(
        Guid.Parse("7c1e2b63-2d4f-4f1b-8b4a-3a5a7a1e2b01"), "Agent",
        "The company's representative.",
        "The person speaking for the company: a support agent or a sales representative.",
        [CustomerSupport.Id, Sales.Id]);

    public static readonly ParticipantRoleDef Customer = new(
        Guid.Parse("7c1e2b63-2d4f-4f1b-8b4a-3a5a7a1e2b02"), "Customer",
        "The customer or prospect.",
        "The person contacting, or contacted by, the company.",
        [CustomerSupport.Id, Sales.Id]);

    public static readonly ParticipantRoleDef Attendee = new(
        Guid.Parse("7c1e2b63-2d4f-4f1b-8b4a-3a5a7a1e2b03"), "Attendee",
        "A participant in a meeting.",
        "Someone taking part in a meeting.",
        [Meeting.Id]);

    public static readonly ParticipantRoleDef Participant = new(
        Guid.Parse("7c1e2b63-2d4f-4f1b-8b4a-3a5a7a1e2b00"), "Participant",
        "Any speaker.",
        "The fallback participant role, used when no candidate participant role applies to a speaker.",
        null);

    public static IReadOnlyList<ConversationTypeDef> ConversationTypes { get; } = [CustomerSupport, Sales, Meeting];

    public static IReadOnlyList<ParticipantRoleDef> ParticipantRoles { get; } = [Agent, Customer, Attendee];

    public static ConversationTypeDef FallbackConversationType => General;

    public static ParticipantRoleDef FallbackParticipantRole => Participant;
}
