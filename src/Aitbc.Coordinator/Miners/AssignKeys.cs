using System.Security.Cryptography;
using System.Text;
using Aitbc.Core.Crypto;

namespace Aitbc.Coordinator.Miners;

/// <summary>
/// The secret the coordinator presents to a miner when it pushes an assignment:
/// <c>base64url(HMAC-SHA256(K, "aitbc-assign-v1:" + miner_pub_key))</c> with <c>K = SHA-256(Ed25519 signature by the
/// coordinator key over "aitbc-assign-key")</c>. Ed25519 signatures are deterministic, so K is the same at every start
/// and nothing needs storing; only the coordinator key's holder can compute it.
/// </summary>
public sealed class AssignKeys(Ed25519KeyPair coordinatorKey)
{
    private readonly byte[] _secret = SHA256.HashData(coordinatorKey.Sign("aitbc-assign-key"u8));

    public string For(string minerPubKey)
    {
        var mac = HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes("aitbc-assign-v1:" + minerPubKey));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
