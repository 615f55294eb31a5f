using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Aitbc.Contracts;

/// <summary>
/// The two ways contracts are read, each defined once on <see cref="ContractJsonContext"/>: snake_case names, nulls left
/// out unless a contract says otherwise, JSON numbers where the contract has numbers. A server reads strictly — unknown,
/// duplicate or missing members are refused; a client reads leniently about what a newer server may add, but not about
/// what its records need.
/// </summary>
public static class ContractJson
{
    /// <summary>
    /// For servers: refuses unknown and duplicate members ({"role":"client","role":"admin"} is ambiguous; readers
    /// disagree on which wins), a missing member without a default, and numbers written as strings ("capacity":"4").
    /// Only contract types: a server writes nothing else through it.
    /// </summary>
    public static JsonSerializerOptions Server { get; } = CreateServer();

    /// <summary>
    /// For clients: skips members it does not know, so a newer server does not break an older client. A member of a
    /// contract whose type is not nullable and that has no default must be present, and never null; nullable ones may
    /// be left out (servers leave nulls out). Types that are not contracts are read by reflection with the same names.
    /// </summary>
    public static JsonSerializerOptions Client { get; } = CreateClient();

    /// <summary>
    /// Applies the server's rules to options that already exist, such as ASP.NET's <c>HttpJsonOptions</c>, whose own
    /// resolvers (problem details, anonymous answers) stay behind the contracts.
    /// </summary>
    public static void ApplyServerRules(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.AllowDuplicateProperties = false;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.RespectRequiredConstructorParameters = true;
        options.TypeInfoResolverChain.Insert(0, ContractJsonContext.Default);
    }

    private static JsonSerializerOptions CreateServer()
    {
        var options = new JsonSerializerOptions();
        ApplyServerRules(options);
        options.MakeReadOnly();
        return options;
    }

    private static JsonSerializerOptions CreateClient()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            RespectNullableAnnotations = true,
            NumberHandling = JsonNumberHandling.Strict,
            TypeInfoResolver = JsonTypeInfoResolver.Combine(
                ContractJsonContext.Default.WithAddedModifier(RequireNonNullableMembers),
                new DefaultJsonTypeInfoResolver()),
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>
    /// A constructor parameter without a default whose type is not nullable must be in the JSON: without this, a
    /// missing one would be read as null (or 0) and fail far from the answer that lacked it.
    /// </summary>
    private static void RequireNonNullableMembers(JsonTypeInfo typeInfo)
    {
        foreach (var property in typeInfo.Properties)
        {
            if (property.AssociatedParameter is { HasDefaultValue: false } && !property.IsSetNullable)
            {
                property.IsRequired = true;
            }
        }
    }
}
