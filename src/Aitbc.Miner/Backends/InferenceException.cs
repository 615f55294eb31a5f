namespace Aitbc.Miner.Backends;

/// <summary>Why a backend call failed; the miner reports each kind to the coordinator as a clear <c>fail</c>.</summary>
public enum InferenceFailure
{
    /// <summary>The backend does not have the requested model (Ollama's 404, a missing GGUF file).</summary>
    ModelNotFound,

    /// <summary>The backend answered with an error, broke off mid-answer, or its answer made no sense.</summary>
    BackendError,

    /// <summary>The backend could not be reached at all (connection refused, unknown host).</summary>
    Unreachable,

    /// <summary>The backend took longer than the configured timeout.</summary>
    Timeout,

    /// <summary>The caller cancelled the job (its deadline passed or it was withdrawn).</summary>
    Cancelled,
}

/// <summary>A failed inference, with the kind of failure and a message fit to show the job's owner.</summary>
public sealed class InferenceException : Exception
{
    public InferenceException(InferenceFailure kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    public InferenceFailure Kind { get; }
}
