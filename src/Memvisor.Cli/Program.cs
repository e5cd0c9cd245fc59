/*
 * memvisor: the command line of Memvisor, a C# implementation of the memory resource management of
 * VMware ESX Server (Waldspurger, OSDI 2002). This file only builds the root command; each command
 * lives in one file under Commands/ and holds wiring and printing, no logic.
 */
using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using Memvisor.Cli;
using Memvisor.Cli.Commands;

var root = new RootCommand("Memvisor: the memory resource management of VMware ESX Server (Waldspurger, OSDI 2002).")
{
    ScanCommand.Create(),
    SimulateCommand.Create(),
    ExperimentCommand.Create(),
    HostCommand.Create(),
};
if (args.Length == 0)
{
    // Bare `memvisor`: what it can do, not "Required command was not provided".
    args = ["--help"];
}

var parse = root.Parse(args);
if (parse.Action is ParseErrorAction && parse.CommandResult.Command.Subcommands.Count > 0 && parse.UnmatchedTokens.Count == 0 && args[^1] == parse.CommandResult.Command.Name)
{
    // A command group without its command (`memvisor host`): its help, as for bare `memvisor`.
    parse = root.Parse([.. args, "--help"]);
}

if (parse.Action is ParseErrorAction && parse.Errors.Count > 0)
{
    // One line naming the command and the first problem (System.CommandLine would print every error on a line
    // of its own, "Required command was not provided." first, and no command name); a full help text after it
    // would bury it (`--help` shows it).
    Console.Error.WriteLine(ParseErrors.OneLine(parse));
    return 1;
}

// Ctrl-C (SIGINT) and SIGTERM cancel the command's token: the command stops at its next check, restores
// the terminal, removes what it was writing, says so and exits with 130. A second Ctrl-C ends the process
// at once. (System.CommandLine's own handler is off: it ends the process without letting the command finish.)
using var interrupted = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    context.Cancel = !interrupted.IsCancellationRequested;
    interrupted.Cancel();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupted.Token);
