using Npgsql;

namespace Aitbc.Coordinator.Storage;

/// <summary>Reads the <c>--database</c> setting: a PostgreSQL connection string in keyword form (<c>Host=…</c>) or as a URL (<c>postgres://…</c>).</summary>
public static class DatabaseSettings
{
    private static readonly string[] UrlSchemes = ["postgres://", "postgresql://"];

    public static bool IsPostgres(string? database)
    {
        if (string.IsNullOrWhiteSpace(database))
        {
            return false;
        }
        var text = database.Trim();
        if (UrlSchemes.Any(scheme => text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(text);
            return !string.IsNullOrEmpty(builder.Host);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The keyword form Npgsql takes; a <c>postgres://user:password@host:port/database?key=value</c> URL is converted.</summary>
    public static string ToNpgsql(string database)
    {
        ArgumentNullException.ThrowIfNull(database);
        var text = database.Trim();
        if (!UrlSchemes.Any(scheme => text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)))
        {
            return new NpgsqlConnectionStringBuilder(text).ConnectionString;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || string.IsNullOrEmpty(url.Host))
        {
            throw new ArgumentException($"database URL is not valid: '{Redact(text)}'", nameof(database));
        }
        var builder = new NpgsqlConnectionStringBuilder { Host = url.Host };
        if (!url.IsDefaultPort && url.Port > 0)
        {
            builder.Port = url.Port;
        }
        var name = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/'));
        if (name.Length > 0)
        {
            builder.Database = name;
        }
        if (url.UserInfo.Length > 0)
        {
            var colon = url.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? url.UserInfo : url.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(url.UserInfo[(colon + 1)..]);
            }
        }
        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            // libpq's names for the settings Npgsql spells differently.
            key = key.ToLowerInvariant() switch
            {
                "sslmode" => "SSL Mode",
                "connect_timeout" => "Timeout",
                "application_name" => "Application Name",
                _ => key,
            };
            builder[key] = value;
        }
        return builder.ConnectionString;
    }

    /// <summary>The setting with any password removed, for messages and logs.</summary>
    public static string Redact(string database)
    {
        ArgumentNullException.ThrowIfNull(database);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(ToNpgsql(database)) { Password = null };
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(unreadable)";
        }
    }
}
