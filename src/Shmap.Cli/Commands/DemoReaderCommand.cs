using System.CommandLine;

namespace Shmap.Cli.Commands;

/// <summary>The hidden verb the demo's child processes run.</summary>
internal static class DemoReaderCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("__demo-reader", "Internal: a reader process of 'shmap demo'.") { Hidden = true };
        app.SetAction(command, [], (context, parseResult) => ExitCodes.Ok);
        return command;
    }
}
