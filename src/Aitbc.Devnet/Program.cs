using System.Collections;
using Aitbc.Devnet;

return await DevnetApp.RunAsync(args, Console.Out, Console.Error, (IDictionary)Environment.GetEnvironmentVariables(), Console.In,
    interactive: !Console.IsInputRedirected && !Console.IsOutputRedirected);
