namespace Tollgate.Limits;

/// <summary>
/// The pool that concurrency and monthly usage are counted in: one (organization, model) pair, shared by
/// every key of the organization (DESIGN 2). Each request is judged by its own key's limit values.
/// </summary>
public readonly record struct PoolKey(string OrgId, string Model);
