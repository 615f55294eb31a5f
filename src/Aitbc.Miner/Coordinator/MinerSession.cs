using System.Security.Cryptography;
using System.Text;

namespace Aitbc.Miner.Coordinator;

/// <summary>
/// What the miner knows of its standing with the coordinator: the <c>assign_key</c> it must see on assignments, the
/// models it offers and the heartbeat interval. Written by the registration loop, read by the assignment endpoint.
/// </summary>
public sealed class MinerSession
{
    private volatile State _state = new(null, null, []);

    private sealed record State(string? MinerId, byte[]? AssignKey, IReadOnlyList<string> Models);

    /// <summary>The coordinator's id for this miner, once registered.</summary>
    public string? MinerId => _state.MinerId;

    public bool Registered => _state.AssignKey is not null;

    public IReadOnlyList<string> Models => _state.Models;

    public void SetRegistered(string minerId, string assignKey, IReadOnlyList<string> models) =>
        _state = new State(minerId, Encoding.UTF8.GetBytes(assignKey), models);

    public void SetModels(IReadOnlyList<string> models) => _state = _state with { Models = models };

    /// <summary>Forgets the registration (the coordinator said it no longer knows this miner); assignments wait for the next one.</summary>
    public void SetUnregistered() => _state = _state with { AssignKey = null };

    /// <summary>Whether <paramref name="presented"/> is the current assign key, compared in constant time.</summary>
    public bool IsAssignKey(string? presented)
    {
        var expected = _state.AssignKey;
        if (expected is null || presented is null)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(presented));
    }

    /// <summary>Whether the miner serves <paramref name="model"/>.</summary>
    public bool Serves(string model) => Resolve(model) is not null;

    /// <summary>The served name for <paramref name="model"/>, or null: as Ollama does, <c>name</c> means <c>name:latest</c>.</summary>
    public string? Resolve(string model)
    {
        var models = _state.Models;
        if (models.Contains(model, StringComparer.Ordinal))
        {
            return model;
        }
        var latest = model + ":latest";
        return !model.Contains(':', StringComparison.Ordinal) && models.Contains(latest, StringComparer.Ordinal) ? latest : null;
    }
}
