/*
 * memvisor: the command line of Memvisor, a C# implementation of the memory resource management of
 * VMware ESX Server (Waldspurger, OSDI 2002). This file only builds the root command; each command
 * lives in one file under Commands/ and holds wiring and printing, no logic.
 */
using System.CommandLine;
using System.CommandLine.Invocation;
using Memvisor.Cli.Commands;

var root = new RootCommand("Memvisor: the memory resource management of VMware ESX Server (Waldspurger, OSDI 2002).")
{
    ScanCommand.Create(),
    SimulateCommand.Create(),
    ExperimentCommand.Create(),
    HostCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Action is ParseErrorAction parseError)
{
    // The error names the problem; a full help text after it would bury it (`--help` shows it).
    parseError.ShowHelp = false;
}

return parse.Invoke();
