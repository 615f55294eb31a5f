using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Aitbc.Node.Rpc;

/// <summary>The methods of a set of <see cref="IRpcModule"/>s by wire name, built once at start-up.</summary>
public sealed class RpcRegistry
{
    private readonly FrozenDictionary<string, RpcMethod> _methods;

    public RpcRegistry(IEnumerable<IRpcModule> modules, JsonSerializerOptions options)
    {
        var methods = new Dictionary<string, RpcMethod>(StringComparer.Ordinal);
        foreach (var method in modules.SelectMany(m => RpcMethod.Of(m, options)))
        {
            if (!methods.TryAdd(method.Name, method))
            {
                throw new InvalidOperationException($"two RPC modules serve {method.Name}");
            }
        }
        _methods = methods.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Names => _methods.Keys;

    public bool TryGet(string name, [MaybeNullWhen(false)] out RpcMethod method) => _methods.TryGetValue(name, out method);
}
