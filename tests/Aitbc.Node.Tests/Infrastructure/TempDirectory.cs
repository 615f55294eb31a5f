namespace Aitbc.Node.Tests.Infrastructure;

/// <summary>A fresh directory under the system temp folder, removed with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string label)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"aitbc-node-tests-{label}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                if (Directory.Exists(Path))
                {
                    Directory.Delete(Path, recursive: true);
                }
                return;
            }
            catch (IOException) when (attempt < 4)
            {
                // A killed process may still be letting go of its files.
                Thread.Sleep(50);
            }
            catch (UnauthorizedAccessException) when (attempt < 4)
            {
                Thread.Sleep(50);
            }
        }
    }
}
