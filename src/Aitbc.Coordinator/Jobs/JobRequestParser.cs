using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;

namespace Aitbc.Coordinator.Jobs;

/// <summary>
/// Reads <c>POST /v1/jobs</c> in either form — the seed's flat <c>{type, prompt, model, options?, max_price?}</c> or
/// <c>{payload:{…}, ttl_seconds}</c> — and names every bad field by its JSON path. Unknown top-level fields are ignored
/// (the seed's Python client adds some); unknown options are refused, since a miner would silently drop them.
/// </summary>
public static partial class JobRequestParser
{
    // \z, not $: $ also matches before a final newline, which would let "model\n" through.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\z")]
    private static partial Regex ModelPattern();

    /// <summary>Whether <paramref name="model"/> is a valid model name (jobs and miners' model lists share the rule).</summary>
    public static bool IsModelName(string model) => ModelPattern().IsMatch(model);

    public static JobSubmission? Parse(JsonElement root, CoordinatorOptions options, out Dictionary<string, string[]> errors)
    {
        errors = [];
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors[""] = ["the body must be a JSON object"];
            return null;
        }
        var source = root;
        var prefix = "";
        if (root.TryGetProperty("payload", out var payload))
        {
            if (payload.ValueKind != JsonValueKind.Object)
            {
                errors["payload"] = ["payload must be an object"];
                return null;
            }
            source = payload;
            prefix = "payload.";
        }

        var type = ReadString(source, "type", prefix, errors, required: true);
        if (type is not null && type != JobLimits.InferenceType)
        {
            errors[prefix + "type"] = [$"type must be \"{JobLimits.InferenceType}\""];
        }
        var prompt = ReadString(source, "prompt", prefix, errors, required: true);
        if (prompt is not null)
        {
            if (string.IsNullOrWhiteSpace(prompt))
            {
                errors[prefix + "prompt"] = ["prompt must not be empty"];
            }
            else if (System.Text.Encoding.UTF8.GetByteCount(prompt) > options.MaxPromptBytes)
            {
                errors[prefix + "prompt"] = [$"prompt must be at most {options.MaxPromptBytes} bytes of UTF-8"];
            }
        }
        var model = ReadString(source, "model", prefix, errors, required: true);
        if (model is not null && !ModelPattern().IsMatch(model))
        {
            errors[prefix + "model"] = ["model must be 1 to 128 characters of A-Z a-z 0-9 . _ : / - starting with a letter or digit"];
        }
        var jobOptions = ReadOptions(source, prefix, errors);

        var maxPrice = options.DefaultMaxPrice;
        var (priceElement, pricePath) = source.TryGetProperty("max_price", out var p) ? (p, prefix + "max_price")
            : root.TryGetProperty("max_price", out var rp) ? (rp, "max_price") : (default, "");
        if (pricePath.Length > 0 && priceElement.ValueKind != JsonValueKind.Null)
        {
            if (priceElement.ValueKind != JsonValueKind.String)
            {
                errors[pricePath] = ["max_price must be a string of AITBC, e.g. \"0.5\" (never a JSON number)"];
            }
            else if (!Amount.TryParseAitbc(priceElement.GetString(), out maxPrice) || maxPrice.IsZero)
            {
                errors[pricePath] = ["max_price must be a positive AITBC amount with at most 6 decimals, e.g. \"0.5\""];
            }
            else if (maxPrice > options.MaxPriceCap)
            {
                errors[pricePath] = [$"max_price must be at most {options.MaxPriceCap.ToAitbcString()} AITBC"];
            }
        }

        var ttl = options.DefaultTtlSeconds;
        if (root.TryGetProperty("ttl_seconds", out var ttlElement) && ttlElement.ValueKind != JsonValueKind.Null)
        {
            if (ttlElement.ValueKind != JsonValueKind.Number || !ttlElement.TryGetInt32(out ttl) || ttl < 1 || ttl > options.MaxTtlSeconds)
            {
                errors["ttl_seconds"] = [$"ttl_seconds must be an integer from 1 to {options.MaxTtlSeconds}"];
            }
        }
        return errors.Count == 0 ? new JobSubmission(type!, prompt!, model!, jobOptions!, maxPrice, ttl) : null;
    }

    private static JsonObject? ReadOptions(JsonElement source, string prefix, Dictionary<string, string[]> errors)
    {
        var result = new JsonObject();
        if (!source.TryGetProperty("options", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return result;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors[prefix + "options"] = ["options must be an object"];
            return null;
        }
        foreach (var property in element.EnumerateObject())
        {
            var path = $"{prefix}options.{property.Name}";
            var value = property.Value;
            switch (property.Name)
            {
                case "temperature":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var temperature) || temperature is < 0 or > JobLimits.MaxTemperature)
                    {
                        errors[path] = [$"temperature must be a number from 0 to {JobLimits.MaxTemperature:0.0}"];
                    }
                    else
                    {
                        result["temperature"] = temperature;
                    }
                    break;
                case "num_predict":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var numPredict) || numPredict is < 1 or > JobLimits.MaxNumPredict)
                    {
                        errors[path] = [$"num_predict must be an integer from 1 to {JobLimits.MaxNumPredict}"];
                    }
                    else
                    {
                        result["num_predict"] = numPredict;
                    }
                    break;
                case "seed":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var seed))
                    {
                        errors[path] = ["seed must be an integer"];
                    }
                    else
                    {
                        result["seed"] = seed;
                    }
                    break;
                default:
                    errors[path] = ["unknown option; the options are temperature, num_predict and seed"];
                    break;
            }
        }
        return result;
    }

    private static string? ReadString(JsonElement source, string name, string prefix, Dictionary<string, string[]> errors, bool required)
    {
        if (!source.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors[prefix + name] = [$"{name} is required"];
            }
            return null;
        }
        if (element.ValueKind != JsonValueKind.String)
        {
            errors[prefix + name] = [$"{name} must be a string"];
            return null;
        }
        return element.GetString();
    }
}
