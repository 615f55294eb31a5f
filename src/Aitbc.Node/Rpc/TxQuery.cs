using System.Text.RegularExpressions;

namespace Aitbc.Node.Rpc;

/// <summary>The subset of CometBFT's tx_search query language we index: conditions joined by AND, <c>=</c> on event attributes and tx.hash, comparisons on tx.height.</summary>
public static partial class TxQuery
{
    [GeneratedRegex(@"^\s*(?<key>[A-Za-z0-9_.\-]+)\s*(?<op><=|>=|=|<|>)\s*(?<value>'[^']*'|[^\s']+)\s*$")]
    private static partial Regex Condition();

    public static IReadOnlyList<(string Key, string Op, string Value)> Parse(string query)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            throw RpcException.InvalidParams("query must not be empty");
        }
        var conditions = new List<(string, string, string)>();
        foreach (var part in Regex.Split(query, @"\s+AND\s+", RegexOptions.None, TimeSpan.FromSeconds(1)))
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
                if (!long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out _))
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
