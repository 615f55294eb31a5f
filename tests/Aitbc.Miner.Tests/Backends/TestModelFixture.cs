using Aitbc.Miner.Backends;

namespace Aitbc.Miner.Tests.Backends;

/// <summary>Writes the tiny test model into a temp folder once and loads it for every embedded-backend test.</summary>
public sealed class TestModelFixture : IDisposable
{
    public const int Seed = 42;

    public TestModelFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("aitbc-miner-model-").FullName;
        ModelPath = Path.Combine(Directory, "tiny.gguf");
        TestModelWriter.Write(ModelPath, Seed);
        Backend = EmbeddedLlamaBackend.Load(ModelPath, "tiny", threads: 1);
    }

    public string Directory { get; }

    public string ModelPath { get; }

    public EmbeddedLlamaBackend Backend { get; }

    public void Dispose()
    {
        Backend.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
