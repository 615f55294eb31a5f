using Aitbc.Miner.Backends;

namespace Aitbc.Miner.Tests.Backends;

public sealed class TestModelWriterTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("aitbc-miner-writer-");

    [Fact]
    public void Writes_a_small_gguf_v3_file_that_the_same_seed_reproduces()
    {
        var a = Path.Combine(_dir.FullName, "a.gguf");
        var b = Path.Combine(_dir.FullName, "b.gguf");
        var c = Path.Combine(_dir.FullName, "c.gguf");

        TestModelWriter.Write(a, 1);
        TestModelWriter.Write(b, 1);
        TestModelWriter.Write(c, 2);

        var bytes = File.ReadAllBytes(a);
        Assert.Equal("GGUF"u8.ToArray(), bytes[..4]);
        Assert.Equal(3u, BitConverter.ToUInt32(bytes, 4));
        Assert.InRange(bytes.Length, 300_000, 1_000_000);
        Assert.Equal(0, bytes.Length % 32);
        Assert.Equal(bytes, File.ReadAllBytes(b));
        Assert.NotEqual(bytes, File.ReadAllBytes(c));
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
