using System.Buffers;

namespace Aitbc.Node.Rpc;

/// <summary>
/// The bytes of one HTTP answer, written as they are produced and refused past a limit: a result being serialized
/// stops with <see cref="LimitPassedException"/> as soon as it passes <see cref="Limit"/>, so an answer that would
/// not be sent is never built whole. <see cref="Truncate"/> then drops what it had written.
/// </summary>
internal sealed class AnswerBuffer : IBufferWriter<byte>
{
    private byte[] _bytes = new byte[4096];

    /// <summary>Thrown from <see cref="Advance"/> when the bytes written pass <see cref="Limit"/>.</summary>
    internal sealed class LimitPassedException() : Exception("the answer passed its byte limit");

    public int Written { get; private set; }

    /// <summary>The most bytes the buffer may hold; lowered and raised by its writer, one call at a time.</summary>
    public long Limit { get; set; } = long.MaxValue;

    public ReadOnlyMemory<byte> WrittenMemory => _bytes.AsMemory(0, Written);

    public void Advance(int count)
    {
        Written += count;
        if (Written > Limit)
        {
            throw new LimitPassedException();
        }
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _bytes.AsMemory(Written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _bytes.AsSpan(Written);
    }

    /// <summary>Forgets every byte after the first <paramref name="length"/>.</summary>
    public void Truncate(int length) => Written = Math.Min(Written, length);

    public void WriteByte(byte value)
    {
        GetSpan(1)[0] = value;
        Advance(1);
    }

    /// <summary>
    /// Grows for the writer's next chunk. The writer asks for at most one token's worst case at a time and gives back
    /// what it used through <see cref="Advance"/>, so the buffer outgrows <see cref="Limit"/> by one token at most.
    /// </summary>
    private void Reserve(int sizeHint)
    {
        var needed = (long)Written + Math.Max(sizeHint, 256);
        if (needed <= _bytes.Length)
        {
            return;
        }
        var size = Math.Max(needed, Math.Min((long)_bytes.Length * 2, Math.Max(Limit, needed)));
        if (size > Array.MaxLength)
        {
            throw new LimitPassedException();
        }
        Array.Resize(ref _bytes, (int)size);
    }
}
