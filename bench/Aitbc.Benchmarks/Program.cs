using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Aitbc.Benchmarks.TransactionBenchmarks).Assembly).Run(args);
