using System.CommandLine;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap rm NAME...</c>: unpublish names.</summary>
internal static class RmCommand
{
    public static Command Create(CliApp app)
    {
        var names = new Argument<string[]>("NAME") { Description = "Names to remove.", Arity = ArgumentArity.OneOrMore };
        var missingOk = new Option<bool>("--missing-ok") { Description = "A name that does not exist is not an error." };
        var command = new Command(
            "rm",
            "Remove shared maps. Processes that have one open keep reading it; new opens fail until it is shared again. " +
            "The memory is freed when the last process unmaps it.")
        {
            names,
            missingOk,
        };
        app.SetAction(
            command,
            ["shmap rm cities", "shmap rm old1 old2 --missing-ok"],
            (context, parseResult) =>
            {
                int code = ExitCodes.Ok;
                foreach (string name in parseResult.GetRequiredValue(names))
                {
                    if (SharedMap.Delete(name, context.Options))
                    {
                        context.Out.WriteLine($"removed '{name}'");
                    }
                    else if (!parseResult.GetValue(missingOk))
                    {
                        context.Error.WriteLine($"shmap: no shared map named '{name}' in {context.Directory}.");
                        code = ExitCodes.NotFound;
                    }
                }

                return code;
            });
        return command;
    }
}
