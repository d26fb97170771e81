using System.CommandLine;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap count NAME [--prefix P]</c>: number of entries.</summary>
internal static class CountCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument();
        var prefix = new Option<string?>("--prefix", "-p") { Description = "Count only keys that start with P (walks them: O(matches)).", HelpName = "P" };
        var command = new Command("count", "Print the number of entries (O(1): read from the snapshot's header).")
        {
            name,
            prefix,
        };
        app.SetAction(
            command,
            ["shmap count cities", "shmap count cities --prefix par"],
            (context, parseResult) =>
            {
                using SharedMap map = Common.Open(context, parseResult.GetRequiredValue(name));
                string? p = parseResult.GetValue(prefix);
                long count = p is null ? map.Count : map.StartsWith(p).LongCount();
                context.Out.WriteLine(count.ToString(CultureInfo.InvariantCulture));
                return ExitCodes.Ok;
            });
        return command;
    }
}
