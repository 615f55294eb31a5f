using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Aitbc.Chain.Storage;

namespace Aitbc.Node.Rpc;

/// <summary>
/// One JSON-RPC method: a public method of an <see cref="IRpcModule"/>, bound once at start-up. Each parameter is read
/// from the call's params by its name — <c>long?</c> as an integer (number or string), <c>string</c> as text (a hash when
/// marked <see cref="RpcHashAttribute"/>), <c>byte[]</c> as bytes; a <see cref="CancellationToken"/> is the request's and
/// a <see cref="ScanBudget"/> the call's search budget —
/// and the result, a contract record or a task of one, is written with the metadata found for its type.
/// </summary>
public sealed class RpcMethod
{
    private readonly object _module;
    private readonly MethodInvoker _invoker;
    private readonly Func<RpcParams, CancellationToken, ScanBudget?, object?>[] _parameters;
    private readonly Func<object?, ValueTask<object?>> _unwrap;
    private readonly JsonTypeInfo _resultType;

    private RpcMethod(object module, MethodInfo method, JsonSerializerOptions options)
    {
        _module = module;
        Name = method.Name;
        _invoker = MethodInvoker.Create(method);
        _parameters = [.. method.GetParameters().Select(p => ReadParameter(method, p))];
        var resultType = method.ReturnType;
        if (resultType.IsGenericType && resultType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            resultType = resultType.GetGenericArguments()[0];
            _unwrap = typeof(RpcMethod).GetMethod(nameof(AwaitAsync), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(resultType).CreateDelegate<Func<object?, ValueTask<object?>>>();
        }
        else
        {
            _unwrap = static result => ValueTask.FromResult(result);
        }
        // Throws at start-up for a result type the serializer has no metadata for, rather than on the first call.
        _resultType = options.GetTypeInfo(resultType);
    }

    /// <summary>The wire name.</summary>
    public string Name { get; }

    /// <summary>The methods <paramref name="module"/> serves: each public method it declares.</summary>
    public static IEnumerable<RpcMethod> Of(IRpcModule module, JsonSerializerOptions options) =>
        module.GetType().GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName)
            .Select(m => new RpcMethod(module, m, options));

    /// <summary>
    /// Reads the parameters, calls the method and returns its result; an <see cref="RpcException"/> or any other failure
    /// is thrown. A method that searches is given <paramref name="scanBudget"/> (none: unbounded).
    /// </summary>
    public async ValueTask<RpcAnswer> InvokeAsync(RpcParams parameters, CancellationToken cancellationToken, ScanBudget? scanBudget = null)
    {
        var arguments = new object?[_parameters.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = _parameters[i](parameters, cancellationToken, scanBudget);
        }
        var returned = _invoker.Invoke(_module, new Span<object?>(arguments));
        return RpcAnswer.Ok(await _unwrap(returned).ConfigureAwait(false), _resultType);
    }

    private static Func<RpcParams, CancellationToken, ScanBudget?, object?> ReadParameter(MethodInfo method, ParameterInfo parameter)
    {
        var name = parameter.Name!;
        var type = parameter.ParameterType;
        if (type == typeof(CancellationToken))
        {
            return static (_, cancellationToken, _) => cancellationToken;
        }
        if (type == typeof(ScanBudget))
        {
            return static (_, _, scanBudget) => scanBudget;
        }
        if (type == typeof(long?))
        {
            return (p, _, _) => p.GetInt64(name);
        }
        if (type == typeof(byte[]))
        {
            return (p, _, _) => p.GetBytes(name);
        }
        if (type == typeof(string))
        {
            return parameter.IsDefined(typeof(RpcHashAttribute)) ? (p, _, _) => p.GetHash(name) : (p, _, _) => p.GetString(name);
        }
        throw new InvalidOperationException($"RPC method {method.Name}: no reader for parameter {name} of type {type.Name}");
    }

    private static async ValueTask<object?> AwaitAsync<T>(object? task) => await ((Task<T>)task!).ConfigureAwait(false);
}
