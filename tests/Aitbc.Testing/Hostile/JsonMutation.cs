using System.Text;

namespace Aitbc.Testing.Hostile;

/// <summary>A valid body changed one hostile way: what was done, and the bytes to send.</summary>
public sealed record JsonMutation(string Description, byte[] Body)
{
    public override string ToString() => $"{Description}: {HostileCase.Shorten(Encoding.UTF8.GetString(Body))}";
}
