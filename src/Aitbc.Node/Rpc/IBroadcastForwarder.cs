namespace Aitbc.Node.Rpc;

/// <summary>Sends broadcasts to the validator when this node is a follower; answers with the validator's result.</summary>
public interface IBroadcastForwarder
{
    /// <summary>Calls <paramref name="method"/> with <paramref name="tx"/> on the validator and reads its result as <typeparamref name="T"/>.</summary>
    Task<T> ForwardAsync<T>(string method, byte[] tx, CancellationToken cancellationToken);
}
