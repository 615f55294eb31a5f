using System.Collections;
using Aitbc.Cli;

return await CliApp.RunAsync(args, Console.Out, Console.Error, (IDictionary)Environment.GetEnvironmentVariables(), Console.In, interactive: !Console.IsInputRedirected && !Console.IsOutputRedirected);
