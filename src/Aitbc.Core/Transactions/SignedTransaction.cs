using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;

namespace Aitbc.Core.Transactions;

/// <summary>What a sender signs: everything of a transaction but its signature.</summary>
public sealed record UnsignedTransaction(string ChainId, Ed25519PublicKey PubKey, ulong Nonce, TxBody Body)
{
    public string Type => Body.TypeName();

    public Address Sender => PubKey.Address;

    public JsonObject ToJson() => new()
    {
        ["chain_id"] = ChainId,
        ["type"] = Type,
        ["pub_key"] = PubKey.Base64,
        ["nonce"] = Nonce,
        ["body"] = JsonSerializer.SerializeToNode(Body, Body.GetType(), WireJson.Options),
    };

    /// <summary>Signs and encodes: wire bytes are the JCS of the object with its signature.</summary>
    public SignedTransaction Sign(Ed25519KeyPair key)
    {
        if (!key.PublicKey.Equals(PubKey))
        {
            throw new ArgumentException("the signing key is not the transaction's pub_key", nameof(key));
        }
        var json = ToJson();
        var signBytes = CanonicalJson.Serialize(json);
        var signature = key.Sign(signBytes);
        json["signature"] = Convert.ToBase64String(signature);
        var wire = CanonicalJson.Serialize(json);
        return new SignedTransaction(this, signature, wire, signBytes);
    }
}

/// <summary>A decoded, well-formed transaction with its wire bytes; <see cref="VerifySignature"/> tells whether it is authentic.</summary>
public sealed class SignedTransaction
{
    /// <summary>The largest transaction accepted on the wire.</summary>
    public const int MaxWireBytes = 16 * 1024;

    /// <summary>Nonces stay below 2^53 so that every JSON implementation reads them exactly.</summary>
    public const ulong MaxNonce = (1UL << 53) - 1;

    private static readonly HashSet<string> EnvelopeFields = ["chain_id", "type", "pub_key", "nonce", "body", "signature"];
    private readonly byte[] _signBytes;
    private readonly byte[] _signature;

    internal SignedTransaction(UnsignedTransaction tx, byte[] signature, byte[] wireBytes, byte[] signBytes)
    {
        Tx = tx;
        _signature = signature;
        WireBytes = wireBytes;
        _signBytes = signBytes;
        Hash = Hashing.Sha256UpperHex(wireBytes);
    }

    public UnsignedTransaction Tx { get; }

    public byte[] WireBytes { get; }

    /// <summary>SHA-256 of the wire bytes, upper-case hex.</summary>
    public string Hash { get; }

    public ReadOnlySpan<byte> Signature => _signature;

    public Address Sender => Tx.Sender;

    public bool VerifySignature() => Tx.PubKey.Verify(_signBytes, _signature);

    /// <summary>Decodes wire bytes; refuses anything but the canonical encoding, so one transaction has one hash.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> wire, out SignedTransaction tx, out string error)
    {
        tx = null!;
        if (wire.Length == 0)
        {
            error = "empty transaction";
            return false;
        }
        if (wire.Length > MaxWireBytes)
        {
            error = $"transaction is {wire.Length} bytes; the limit is {MaxWireBytes}";
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(wire.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "a transaction is a JSON object";
                return false;
            }
            foreach (var property in root.EnumerateObject())
            {
                if (!EnvelopeFields.Contains(property.Name))
                {
                    error = $"unknown field '{property.Name}'";
                    return false;
                }
            }
            if (!TryGetString(root, "chain_id", out var chainId, out error)
                || !TryGetString(root, "type", out var type, out error)
                || !TryGetString(root, "pub_key", out var pubKeyText, out error)
                || !TryGetString(root, "signature", out var signatureText, out error))
            {
                return false;
            }
            if (chainId.Length is 0 or > 64)
            {
                error = "chain_id must be 1 to 64 characters";
                return false;
            }
            if (!TxType.All.Contains(type))
            {
                error = $"unknown transaction type '{type}'";
                return false;
            }
            if (!Ed25519PublicKey.TryParse(pubKeyText, out var pubKey))
            {
                error = "pub_key must be a 32-byte Ed25519 key in base64";
                return false;
            }
            var signature = new byte[Ed25519KeyPair.SignatureSize];
            // Only the canonical spelling: base64 of 64 bytes leaves 4 unused bits in its last character, and
            // accepting them set would let anyone re-spell a signed transaction under a new hash.
            if (signatureText.Length != 88 || !Convert.TryFromBase64String(signatureText, signature, out var written) || written != signature.Length
                || !string.Equals(Convert.ToBase64String(signature), signatureText, StringComparison.Ordinal))
            {
                error = "signature must be 64 bytes in base64";
                return false;
            }
            if (!root.TryGetProperty("nonce", out var nonceElement) || nonceElement.ValueKind != JsonValueKind.Number
                || !nonceElement.TryGetUInt64(out var nonce) || nonce is 0 or > MaxNonce)
            {
                error = "nonce must be an integer from 1 to 2^53-1";
                return false;
            }
            if (!root.TryGetProperty("body", out var bodyElement) || bodyElement.ValueKind != JsonValueKind.Object)
            {
                error = "body must be an object";
                return false;
            }
            TxBody? body;
            try
            {
                body = (TxBody?)bodyElement.Deserialize(TxType.BodyType(type), WireJson.Options);
            }
            catch (JsonException e)
            {
                error = $"invalid {type} body: {e.Message}";
                return false;
            }
            if (body is null)
            {
                error = "body must be an object";
                return false;
            }
            // Members sort as body, chain_id, nonce, pub_key, signature, type: the canonical wire is the signed
            // bytes with the signature member inserted before the last one, so one serialization checks both.
            var signBytes = CanonicalJson.Serialize(root, omitTopLevelProperty: "signature");
            if (!IsSignedBytesWithSignature(wire, signBytes, type, signatureText))
            {
                error = "transaction is not in canonical JSON (RFC 8785) form";
                return false;
            }
            var canonical = wire.ToArray();
            tx = new SignedTransaction(new UnsignedTransaction(chainId, pubKey, nonce, body), signature, canonical, signBytes);
            error = "";
            return true;
        }
        catch (JsonException e)
        {
            error = $"invalid JSON: {e.Message}";
            return false;
        }
        catch (CanonicalJsonException e)
        {
            error = e.Message;
            return false;
        }
        catch (InvalidOperationException e)
        {
            // JsonDocument defers text decoding: reading a name or string holding invalid UTF-8 or a lone
            // surrogate escape throws here, and that is malformed input, not a fault of ours.
            error = $"invalid JSON text: {e.Message}";
            return false;
        }
    }

    private static bool IsSignedBytesWithSignature(ReadOnlySpan<byte> wire, ReadOnlySpan<byte> signBytes, string type, string signature)
    {
        var tail = Encoding.ASCII.GetBytes($",\"type\":\"{type}\"}}");
        var member = Encoding.ASCII.GetBytes($",\"signature\":\"{signature}\"");
        if (!signBytes.EndsWith(tail) || wire.Length != signBytes.Length + member.Length)
        {
            return false;
        }
        var head = signBytes[..^tail.Length];
        return wire.StartsWith(head) && wire[head.Length..].StartsWith(member) && wire[(head.Length + member.Length)..].SequenceEqual(tail);
    }

    private static bool TryGetString(JsonElement root, string name, out string value, out string error)
    {
        if (root.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String)
        {
            value = element.GetString()!;
            error = "";
            return true;
        }
        value = "";
        error = $"{name} must be a string";
        return false;
    }
}
