using System.Diagnostics;

namespace Aitbc.Node;

/// <summary>The node's <see cref="ActivitySource"/>: its incoming RPC requests are traced by ASP.NET Core's instrumentation.</summary>
public static class NodeTracing
{
    public static readonly ActivitySource Source = new("Aitbc.Node");
}
