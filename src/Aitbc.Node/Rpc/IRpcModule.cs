namespace Aitbc.Node.Rpc;

/// <summary>
/// A group of JSON-RPC methods: every public method the module declares is served under its own name, so a module's
/// methods carry the wire names (<c>status</c>, <c>broadcast_tx_sync</c>) and their parameters the params' names.
/// </summary>
public interface IRpcModule;
