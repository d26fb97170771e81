using System.CommandLine;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap demo</c>: shows what Shmap is for, with measurements.</summary>
internal static class DemoCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("demo", "Demo (not yet).");
        app.SetAction(command, [], (context, parseResult) => ExitCodes.Ok);
        return command;
    }
}
