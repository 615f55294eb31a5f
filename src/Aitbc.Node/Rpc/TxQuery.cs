using System.Text.RegularExpressions;

namespace Aitbc.Node.Rpc;

/// <summary>The subset of CometBFT's tx_search query language we index: conditions joined by AND, <c>=</c> on event attributes and tx.hash, comparisons on tx.height.</summary>
public static partial class TxQuery
{
    [GeneratedRegex(@"^\s*(?<key>[A-Za-z0-9_.\-]+)\s*(?<op><=|>=|=|<|>)\s*(?<value>'[^']*'|[^\s']+)\s*$")]
    private static partial Regex Condition();

    // Non-backtracking: a run of spaces that never reaches an AND must not cost quadratic time.
    [GeneratedRegex(@"\s+AND\s+", RegexOptions.NonBacktracking)]
    private static partial Regex And();

    /// <summary>Longer queries only cost: splitting is linear, but every condition is a sub-select in the search.</summary>
    public const int MaxLength = 4096;

    public const int MaxConditions = 32;

    public static IReadOnlyList<(string Key, string Op, string Value)> Parse(string query)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            throw RpcException.InvalidParams("query must not be empty");
        }
        if (query.Length > MaxLength)
        {
            throw RpcException.InvalidParams($"query is {query.Length} characters; the limit is {MaxLength}");
        }
        var parts = And().Split(query);
        if (parts.Length > MaxConditions)
        {
            throw RpcException.InvalidParams($"query has {parts.Length} conditions; the limit is {MaxConditions}");
        }
        var conditions = new List<(string, string, string)>();
        foreach (var part in parts)
        {
            var match = Condition().Match(part);
            if (!match.Success)
            {
                throw RpcException.InvalidParams($"cannot parse query condition '{part.Trim()}' (supported: key = 'value', tx.height op N)");
            }
            var key = match.Groups["key"].Value;
            var op = match.Groups["op"].Value;
            var value = match.Groups["value"].Value.Trim('\'');
            if (key == "tx.height")
            {
                if (!RpcParams.TryParseInt64(value, out _))
                {
                    throw RpcException.InvalidParams("tx.height must be compared with an integer");
                }
            }
            else if (op != "=")
            {
                throw RpcException.InvalidParams($"only '=' is supported for {key}");
            }
            conditions.Add((key, op, value));
        }
        return conditions;
    }
}
