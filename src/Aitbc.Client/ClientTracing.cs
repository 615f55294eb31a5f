using System.Diagnostics;

namespace Aitbc.Client;

/// <summary>The client side's spans (docs/observability.md): one per <c>aitbc</c> command, parent of its HTTP calls.</summary>
public static class ClientTracing
{
    public static readonly ActivitySource Source = new("Aitbc.Client");
}
