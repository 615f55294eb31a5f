using System.Collections;
using Aitbc.Cli.Infrastructure;
using Aitbc.Cli.Tests.Infrastructure;

namespace Aitbc.Cli.Tests;

/// <summary>Settings precedence for the options later commands use: option &gt; environment &gt; config file &gt; default.</summary>
public sealed class CliSettingsTests
{
    [Fact]
    public void Defaults_apply_when_nothing_is_set()
    {
        using var cli = new CliHarness(null);

        var settings = CliSettings.Resolve(new Hashtable { ["AITBC_HOME"] = cli.Home }, null, null, null, null);

        Assert.Equal(new Uri("http://127.0.0.1:8006/"), settings.NodeUrl);
        Assert.Equal(new Uri("http://127.0.0.1:8000/"), settings.CoordinatorUrl);
        Assert.Null(settings.ApiKey);
        Assert.Equal(OutputFormat.Text, settings.Output);
        Assert.Equal(3, settings.Retry.MaxRetries);
        Assert.Equal(Path.Combine(cli.Home, "wallets"), settings.WalletsDirectory);
    }

    [Fact]
    public void Url_and_api_key_come_from_option_then_env_then_config()
    {
        using var cli = new CliHarness(null);
        cli.WriteFile("config.json", """{ "url": "http://config:8000", "api_key": "config-key", "wallet": "cfg" }""");
        var env = new Hashtable { ["AITBC_HOME"] = cli.Home };

        var fromConfig = CliSettings.Resolve(env, null, null, null, null);
        env["AITBC_URL"] = "http://env:8000";
        env["CLIENT_API_KEY"] = "env-key";
        var fromEnv = CliSettings.Resolve(env, null, null, null, null);
        var fromOption = CliSettings.Resolve(env, null, null, "https://option:8443/api", "option-key");

        Assert.Equal(("http://config:8000/", "config-key", "cfg"), (fromConfig.CoordinatorUrl.ToString(), fromConfig.ApiKey, fromConfig.Wallet));
        Assert.Equal(("http://env:8000/", "env-key"), (fromEnv.CoordinatorUrl.ToString(), fromEnv.ApiKey));
        Assert.Equal(("https://option:8443/api/", "option-key"), (fromOption.CoordinatorUrl.ToString(), fromOption.ApiKey));
    }

    [Theory]
    [InlineData("ftp://x")]
    [InlineData("not a url")]
    public void A_bad_url_is_a_usage_error_naming_the_option(string url)
    {
        using var cli = new CliHarness(null);

        var e = Assert.Throws<CliUsageException>(() => CliSettings.Resolve(new Hashtable { ["AITBC_HOME"] = cli.Home }, null, url, null, null));

        Assert.Contains("--node", e.Message);
    }

    [Fact]
    public void A_bad_retry_knob_is_a_usage_error()
    {
        using var cli = new CliHarness(null);

        var e = Assert.Throws<CliUsageException>(() => CliSettings.Resolve(new Hashtable { ["AITBC_HOME"] = cli.Home, ["AITBC_RETRIES"] = "-1" }, null, null, null, null));

        Assert.Contains("AITBC_RETRIES", e.Message);
    }

    [Fact]
    public void The_admin_key_comes_from_option_then_AITBC_ADMIN_KEY_then_ADMIN_API_KEY_then_config_never_the_client_key()
    {
        using var cli = new CliHarness(null);
        var env = new Hashtable { ["AITBC_HOME"] = cli.Home, ["CLIENT_API_KEY"] = "client-key" };

        var none = CliSettings.Resolve(env, null, null, null, null).AdminKey;
        cli.WriteFile("config.json", """{ "admin_key": "config-admin" }""");
        var fromConfig = CliSettings.Resolve(env, null, null, null, null).AdminKey;
        env["ADMIN_API_KEY"] = "coordinator-admin";
        var fromCoordinatorVariable = CliSettings.Resolve(env, null, null, null, null).AdminKey;
        env["AITBC_ADMIN_KEY"] = "cli-admin";
        var fromCliVariable = CliSettings.Resolve(env, null, null, null, null).AdminKey;
        var fromOption = CliSettings.Resolve(env, null, null, null, "option-key").AdminKey;

        Assert.Equal(new string?[] { null, "config-admin", "coordinator-admin", "cli-admin", "option-key" }, new[] { none, fromConfig, fromCoordinatorVariable, fromCliVariable, fromOption });
    }
}
