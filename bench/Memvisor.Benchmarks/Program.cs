/*
 * Memvisor's benchmarks (BenchmarkDotNet): `dotnet run -c Release --project bench/Memvisor.Benchmarks -- --filter '*'`.
 */
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
