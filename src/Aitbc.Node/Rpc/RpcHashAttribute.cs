namespace Aitbc.Node.Rpc;

/// <summary>On a string parameter of an <see cref="IRpcModule"/> method: read as a 32-byte hash (hex or base64), passed as upper hex.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class RpcHashAttribute : Attribute;
