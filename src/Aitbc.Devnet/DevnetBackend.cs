namespace Aitbc.Devnet;

/// <summary>Which backend the devnet's miners run; <see cref="Auto"/> takes Ollama when it answers on 11434, else the embedded model.</summary>
public enum DevnetBackend
{
    Auto,
    Embedded,
    Ollama,
    OpenAi,
}
