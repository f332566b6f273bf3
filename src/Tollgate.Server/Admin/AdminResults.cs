using System.Globalization;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admin;

/// <summary>One page of a list: its items, and <c>next</c>, the cursor of the following page (null on the last).</summary>
internal sealed record PageDto<T>(IReadOnlyList<T> Items, string? Next);

/// <summary>The answers and documentation every Admin API endpoint shares: refusals, not-found bodies, paging.</summary>
internal static class AdminResults
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>The refusals every Admin API call can meet (a wrong token, throttling), plus <paramref name="statuses"/>.</summary>
    public static RouteHandlerBuilder Refuses(this RouteHandlerBuilder endpoint, params int[] statuses)
    {
        foreach (var status in statuses.Concat([StatusCodes.Status401Unauthorized, StatusCodes.Status429TooManyRequests]).Distinct())
        {
            endpoint.Produces<ErrorBody>(status);
        }
        return endpoint;
    }

    /// <summary>What a call with a JSON body can also meet: 400 invalid_json, 413 over 64 KB, 415 not JSON.</summary>
    public static int[] BodyRefusals(params int[] statuses) =>
        [StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, .. statuses];

    public static IResult OrgNotFound(string orgId) =>
        ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No organization {orgId}.");

    public static IResult KeyNotFound(string keyId) =>
        ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No key {keyId}.");

    public static IResult UserNotFound(string userId) =>
        ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No user {userId}.");

    public static IResult Invalid(string detail) =>
        ApiError.Result(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, detail);

    /// <summary>Reads <c>?limit=</c> (1 to <see cref="MaxPageSize"/>, default <see cref="DefaultPageSize"/>); the 400 to answer with otherwise.</summary>
    public static IResult? TryReadLimit(string? limit, out int pageSize)
    {
        pageSize = DefaultPageSize;
        if (limit is null)
        {
            return null;
        }
        if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize)
        {
            return Invalid($"Invalid limit='{limit}'. Expected a whole number from 1 to {MaxPageSize} (default {DefaultPageSize}).");
        }
        return null;
    }

    /// <summary>The cursor that names no item of the list: a 400 that says where cursors come from.</summary>
    public static IResult UnknownCursor(string after, string what) =>
        Invalid($"Invalid after='{after}': no {what} has that id. Pass the 'next' of the previous page (or leave after out for the first page).");

    /// <summary>A page from up to <paramref name="pageSize"/> + 1 rows the store returned: the extra row only says there is a next page.</summary>
    public static PageDto<TDto> Page<TRecord, TDto>(IReadOnlyList<TRecord> rows, int pageSize, Func<TRecord, string> id, Func<TRecord, TDto> map)
    {
        var items = rows.Take(pageSize).Select(map).ToList();
        return new PageDto<TDto>(items, rows.Count > pageSize ? id(rows[pageSize - 1]) : null);
    }
}
