using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using Microsoft.Extensions.Logging;

namespace Aitbc.Miner.Backends;

/// <summary>
/// llama.cpp inside the miner (LLamaSharp, CPU build) running one GGUF file: for machines without Ollama, and for
/// tests and local networks with the model <see cref="TestModelWriter"/> writes.
/// </summary>
public sealed class EmbeddedLlamaBackend : IInferenceBackend, IDisposable
{
    /// <summary>Ollama's default, so a job without a temperature samples alike on either backend.</summary>
    public const double DefaultTemperature = 0.8;

    /// <summary>How many tokens a job without <c>num_predict</c> gets; llama.cpp itself would run to the context's end.</summary>
    public const int DefaultNumPredict = 128;

    private static readonly Lock NativeSetup = new();
    private static bool _nativeConfigured;
    private static ILogger? _nativeLogger;

    // llama.cpp says why a file will not load only in its log, on the loading thread: its first error there is the
    // reason (later lines just say the load failed), kept to put in the exception.
    [ThreadStatic]
    private static string? _loadError;

    private readonly LLamaWeights _weights;
    private readonly ModelParams _contextParams;
    private readonly TimeProvider _time;

    private EmbeddedLlamaBackend(string modelName, LLamaWeights weights, ModelParams contextParams, TimeProvider time)
    {
        ModelName = modelName;
        _weights = weights;
        _contextParams = contextParams;
        _time = time;
    }

    /// <summary>The one model this backend serves.</summary>
    public string ModelName { get; }

    /// <summary>Raised after each generated token with the count so far (tests use it to cancel mid-generation).</summary>
    internal event Action<int>? TokenGenerated;

    /// <summary>
    /// Loads the GGUF file at <paramref name="modelPath"/>; a missing file is <see cref="InferenceFailure.ModelNotFound"/>,
    /// a file llama.cpp refuses is <see cref="InferenceFailure.BackendError"/>.
    /// </summary>
    /// <param name="modelName">The name jobs ask for; the file's name without extension when null.</param>
    /// <param name="threads">CPU threads for generation; one is fastest for tiny models, llama.cpp's default when null.</param>
    /// <param name="contextSize">Tokens of context each generation gets (prompt and output together).</param>
    /// <param name="logger">Where llama.cpp's warnings and errors go (its log is process-wide: the latest logger wins).</param>
    public static EmbeddedLlamaBackend Load(
        string modelPath, string? modelName = null, int? threads = null, uint contextSize = 512, TimeProvider? time = null,
        ILogger? logger = null)
    {
        if (!File.Exists(modelPath))
        {
            throw new InferenceException(InferenceFailure.ModelNotFound, $"embedded backend: model file '{modelPath}' does not exist");
        }
        ConfigureNative(logger);
        var parameters = new ModelParams(modelPath)
        {
            ContextSize = contextSize,
            GpuLayerCount = 0,
        };
        if (threads is { } t)
        {
            parameters.Threads = t;
            parameters.BatchThreads = t;
        }
        _loadError = null;
        try
        {
            var weights = LLamaWeights.LoadFromFile(parameters);
            return new EmbeddedLlamaBackend(modelName ?? Path.GetFileNameWithoutExtension(modelPath), weights, parameters,
                time ?? TimeProvider.System);
        }
        catch (Exception e)
        {
            throw new InferenceException(InferenceFailure.BackendError,
                $"embedded backend: llama.cpp could not load '{modelPath}' as a GGUF model: {_loadError ?? e.Message}", e);
        }
    }

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<string>>([ModelName]);

    public Task<InferenceResult> GenerateAsync(InferenceRequest request, CancellationToken ct)
    {
        if (request.Model != ModelName)
        {
            throw new InferenceException(InferenceFailure.ModelNotFound,
                $"embedded backend: model '{request.Model}' not found (this miner serves '{ModelName}')");
        }
        // The decode loop is CPU-bound: keep it off the caller's thread.
        return Task.Run(() => GenerateCoreAsync(request, ct), CancellationToken.None);
    }

    private async Task<InferenceResult> GenerateCoreAsync(InferenceRequest request, CancellationToken ct)
    {
        var options = request.Options;
        var sampling = new DefaultSamplingPipeline
        {
            Temperature = (float)(options?.Temperature ?? DefaultTemperature),
            // Without a seed each job samples differently, as with Ollama; with one, the same prompt gives the same text.
            Seed = options?.Seed is { } seed ? unchecked((uint)seed) : (uint)Random.Shared.Next(),
        };
        var inference = new InferenceParams
        {
            MaxTokens = options?.NumPredict ?? DefaultNumPredict,
            SamplingPipeline = sampling,
        };

        var started = _time.GetTimestamp();
        var text = new StringBuilder();
        var tokens = 0;
        try
        {
            ct.ThrowIfCancellationRequested();
            var promptTokens = _weights.Tokenize(request.Prompt, true, false, Encoding.UTF8).Length;
            var executor = new StatelessExecutor(_weights, _contextParams);
            // InferAsync yields once per sampled token (a piece may be empty while a UTF-8 sequence is incomplete).
            await foreach (var piece in executor.InferAsync(request.Prompt, inference, ct).ConfigureAwait(false))
            {
                text.Append(piece);
                tokens++;
                TokenGenerated?.Invoke(tokens);
            }
            // The loop may just stop when the token fires instead of throwing: a cut-short text is not a result.
            ct.ThrowIfCancellationRequested();
            return new InferenceResult(
                text.ToString(),
                new InferenceMetrics(_time.GetElapsedTime(started).TotalSeconds, promptTokens, tokens));
        }
        catch (OperationCanceledException e) when (ct.IsCancellationRequested)
        {
            throw new InferenceException(InferenceFailure.Cancelled,
                $"embedded backend: the job was cancelled after {tokens} tokens", e);
        }
        catch (Exception e) when (e is not InferenceException)
        {
            throw new InferenceException(InferenceFailure.BackendError, $"embedded backend: generation failed: {e.Message}", e);
        }
    }

    public void Dispose() => _weights.Dispose();

    // llama.cpp logs every tensor it loads; only its warnings and errors are worth an operator's log.
    private static void ConfigureNative(ILogger? logger)
    {
        lock (NativeSetup)
        {
            if (logger is not null)
            {
                Volatile.Write(ref _nativeLogger, logger);
            }
            if (_nativeConfigured)
            {
                return;
            }
            _nativeConfigured = true;
            if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
            {
                NativeLibraryConfig.All.WithLogCallback((level, message) =>
                {
                    if (level is LLamaLogLevel.Error)
                    {
                        _loadError ??= message.Trim();
                    }
                    if (level is LLamaLogLevel.Error or LLamaLogLevel.Warning)
                    {
                        Volatile.Read(ref _nativeLogger)?.Log(
                            level is LLamaLogLevel.Error ? LogLevel.Error : LogLevel.Warning, "llama.cpp: {Message}", message.Trim());
                    }
                });
            }
        }
    }
}
