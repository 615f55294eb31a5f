using Aitbc.Cli.Infrastructure;
using Spectre.Console;

namespace Aitbc.Cli.Wallets;

/// <summary>Where a wallet password comes from: --password-file, then AITBC_WALLET_PASSWORD, then a hidden prompt at a terminal.</summary>
internal static class PasswordSource
{
    public const string EnvVar = "AITBC_WALLET_PASSWORD";

    public static string Get(CliContext context, string? passwordFile, string? envPassword, string walletName, bool confirm)
    {
        if (passwordFile is not null)
        {
            if (!File.Exists(passwordFile))
            {
                throw new CliUsageException($"password file '{passwordFile}' does not exist");
            }
            // Only the first line: a file written by `echo pw > f` ends with a newline that is not part of the password.
            var fromFile = File.ReadAllText(passwordFile).Split('\n')[0].TrimEnd('\r');
            return fromFile.Length > 0 ? fromFile : throw new CliUsageException($"password file '{passwordFile}' is empty");
        }
        if (!string.IsNullOrEmpty(envPassword))
        {
            return envPassword;
        }
        if (!context.Interactive)
        {
            throw new CliUsageException($"wallet '{walletName}' needs a password: pass --password-file FILE or set {EnvVar} (no terminal to ask at)");
        }
        var password = context.Console.Prompt(new TextPrompt<string>($"Password for wallet '{Markup.Escape(walletName)}':").Secret());
        if (confirm && context.Console.Prompt(new TextPrompt<string>("Repeat the password:").Secret()) != password)
        {
            throw new CliUsageException("the passwords differ; run the command again");
        }
        return password;
    }
}
