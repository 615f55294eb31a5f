namespace Aitbc.Contracts.Node;

/// <summary>A public key as CometBFT writes it: its amino type name and base64 bytes.</summary>
public sealed record CometPubKey(string Type, string Value)
{
    public static CometPubKey Ed25519(string base64) => new(CometJson.PubKeyType, base64);
}
