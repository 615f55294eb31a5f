using System.Text;

namespace Aitbc.Miner.Backends;

/// <summary>
/// Writes a tiny llama-architecture GGUF v3 model with random weights and an embedded SentencePiece-style vocabulary:
/// nothing can be downloaded here, yet the embedded backend must run a real model in tests and on a local network.
/// It loads and generates like any GGUF; its text is readable nonsense.
/// </summary>
public static class TestModelWriter
{
    /// <summary>The model name the file carries in <c>general.name</c>.</summary>
    public const string ModelName = "aitbc-test-tiny";

    private const int Embedding = 64;
    private const int Layers = 2;
    private const int Heads = 4;
    private const int FeedForward = 128;
    private const int ContextLength = 512;
    private const int Alignment = 32;

    private const uint TypeUint32 = 4;
    private const uint TypeInt32 = 5;
    private const uint TypeFloat32 = 6;
    private const uint TypeString = 8;
    private const uint TypeArray = 9;
    private const uint GgmlTypeF32 = 0;

    private const int TokenNormal = 1;
    private const int TokenUnknown = 2;
    private const int TokenControl = 3;
    private const int TokenByte = 6;

    // SentencePiece marks a word start with U+2581; common words and letters make the text look like text.
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "that", "it", "for", "on", "with", "as", "was", "at", "by", "be",
        "this", "from", "or", "an", "are", "not", "but", "all", "can", "one", "has", "more", "will", "new", "data",
        "model", "block", "chain", "miner", "job", "token", "work", "proof", "time", "node", "gpu", "run", "fast",
        "small", "good", "world", "hello", "light", "stone", "river", "cloud", "green", "blue", "red", "code",
        "seed", "tree", "sun", "moon", "sea", "sky",
    ];

    /// <summary>Writes the model to <paramref name="path"/>; the same seed gives the same bytes.</summary>
    public static void Write(string path, int seed)
    {
        var vocab = BuildVocab();
        var random = new Random(seed);
        var tensors = BuildTensors(vocab, random);

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: false);

        var metadata = new List<Action<BinaryWriter>>
        {
            Kv("general.architecture", "llama"),
            Kv("general.name", ModelName),
            Kv("general.alignment", (uint)Alignment),
            Kv("llama.context_length", (uint)ContextLength),
            Kv("llama.embedding_length", (uint)Embedding),
            Kv("llama.block_count", (uint)Layers),
            Kv("llama.feed_forward_length", (uint)FeedForward),
            Kv("llama.attention.head_count", (uint)Heads),
            Kv("llama.attention.head_count_kv", (uint)Heads),
            Kv("llama.rope.dimension_count", (uint)(Embedding / Heads)),
            Kv("llama.attention.layer_norm_rms_epsilon", 1e-5f),
            Kv("llama.vocab_size", (uint)vocab.Count),
            Kv("tokenizer.ggml.model", "llama"),
            w => WriteStringArray(w, "tokenizer.ggml.tokens", vocab.Select(t => t.Text)),
            w => WriteFloatArray(w, "tokenizer.ggml.scores", vocab.Select(t => t.Score)),
            w => WriteIntArray(w, "tokenizer.ggml.token_type", vocab.Select(t => t.Type)),
            Kv("tokenizer.ggml.unknown_token_id", 0u),
            Kv("tokenizer.ggml.bos_token_id", 1u),
            Kv("tokenizer.ggml.eos_token_id", 2u),
        };

        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)metadata.Count);
        foreach (var kv in metadata)
        {
            kv(w);
        }

        ulong offset = 0;
        foreach (var t in tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims)
            {
                w.Write((ulong)d);
            }
            w.Write(GgmlTypeF32);
            // Offsets count from the start of the data section; each tensor starts aligned.
            w.Write(offset);
            offset += Align((ulong)t.Data.Length * sizeof(float));
        }

        Pad(w);
        foreach (var t in tensors)
        {
            foreach (var v in t.Data)
            {
                w.Write(v);
            }
            Pad(w);
        }
    }

    private static ulong Align(ulong n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        w.Flush();
        var position = (ulong)w.BaseStream.Position;
        for (var i = position; i < Align(position); i++)
        {
            w.Write((byte)0);
        }
    }

    private static List<Token> BuildVocab()
    {
        var vocab = new List<Token>
        {
            new("<unk>", 0f, TokenUnknown),
            new("<s>", 0f, TokenControl),
            new("</s>", 0f, TokenControl),
        };
        for (var b = 0; b < 256; b++)
        {
            vocab.Add(new Token($"<0x{b:X2}>", 0f, TokenByte));
        }
        // Letters alone and as word starts let the tokenizer spell any ASCII text without byte fallback.
        var pieces = new List<string> { "\u2581" };
        for (var c = 'a'; c <= 'z'; c++)
        {
            pieces.Add(c.ToString());
            pieces.Add("\u2581" + c);
        }
        pieces.AddRange(Words.Select(word => "\u2581" + word));
        foreach (var p in pieces.Distinct())
        {
            // SentencePiece merges the highest-scoring pair first: longer pieces score higher.
            vocab.Add(new Token(p, p.Length, TokenNormal));
        }
        return vocab;
    }

    private static List<Tensor> BuildTensors(List<Token> vocab, Random random)
    {
        var n = vocab.Count;
        float[] Rand(int count, float scale)
        {
            var data = new float[count];
            for (var i = 0; i < count; i++)
            {
                data[i] = (float)((random.NextDouble() * 2 - 1) * scale);
            }
            return data;
        }
        float[] Ones(int count) => Enumerable.Repeat(1f, count).ToArray();

        // Output weights large enough that normal tokens' logits stand well above the zeroed rows' 0: with random
        // weights sampling would otherwise pick byte tokens and the text would be all U+FFFD.
        var output = Rand(Embedding * n, 1f);
        for (var token = 0; token < n; token++)
        {
            if (vocab[token].Type != TokenNormal)
            {
                Array.Clear(output, token * Embedding, Embedding);
            }
        }

        // Dims in ggml order: the first is the contiguous one (a row of a weight matrix).
        var tensors = new List<Tensor>
        {
            new("token_embd.weight", [Embedding, n], Rand(Embedding * n, 1f)),
            new("output_norm.weight", [Embedding], Ones(Embedding)),
            new("output.weight", [Embedding, n], output),
        };
        for (var layer = 0; layer < Layers; layer++)
        {
            var p = $"blk.{layer}.";
            tensors.Add(new(p + "attn_norm.weight", [Embedding], Ones(Embedding)));
            tensors.Add(new(p + "attn_q.weight", [Embedding, Embedding], Rand(Embedding * Embedding, 0.2f)));
            tensors.Add(new(p + "attn_k.weight", [Embedding, Embedding], Rand(Embedding * Embedding, 0.2f)));
            tensors.Add(new(p + "attn_v.weight", [Embedding, Embedding], Rand(Embedding * Embedding, 0.2f)));
            tensors.Add(new(p + "attn_output.weight", [Embedding, Embedding], Rand(Embedding * Embedding, 0.2f)));
            tensors.Add(new(p + "ffn_norm.weight", [Embedding], Ones(Embedding)));
            tensors.Add(new(p + "ffn_gate.weight", [Embedding, FeedForward], Rand(Embedding * FeedForward, 0.2f)));
            tensors.Add(new(p + "ffn_up.weight", [Embedding, FeedForward], Rand(Embedding * FeedForward, 0.2f)));
            tensors.Add(new(p + "ffn_down.weight", [FeedForward, Embedding], Rand(FeedForward * Embedding, 0.2f)));
        }
        return tensors;
    }

    private static Action<BinaryWriter> Kv(string key, string value) => w =>
    {
        WriteString(w, key);
        w.Write(TypeString);
        WriteString(w, value);
    };

    private static Action<BinaryWriter> Kv(string key, uint value) => w =>
    {
        WriteString(w, key);
        w.Write(TypeUint32);
        w.Write(value);
    };

    private static Action<BinaryWriter> Kv(string key, float value) => w =>
    {
        WriteString(w, key);
        w.Write(TypeFloat32);
        w.Write(value);
    };

    private static void WriteStringArray(BinaryWriter w, string key, IEnumerable<string> values)
    {
        var list = values.ToList();
        WriteString(w, key);
        w.Write(TypeArray);
        w.Write(TypeString);
        w.Write((ulong)list.Count);
        list.ForEach(v => WriteString(w, v));
    }

    private static void WriteFloatArray(BinaryWriter w, string key, IEnumerable<float> values)
    {
        var list = values.ToList();
        WriteString(w, key);
        w.Write(TypeArray);
        w.Write(TypeFloat32);
        w.Write((ulong)list.Count);
        list.ForEach(w.Write);
    }

    private static void WriteIntArray(BinaryWriter w, string key, IEnumerable<int> values)
    {
        var list = values.ToList();
        WriteString(w, key);
        w.Write(TypeArray);
        w.Write(TypeInt32);
        w.Write((ulong)list.Count);
        list.ForEach(w.Write);
    }

    // GGUF strings: a uint64 byte length, then UTF-8 without a terminator.
    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private sealed record Token(string Text, float Score, int Type);

    private sealed record Tensor(string Name, int[] Dims, float[] Data);
}
