using Spectre.Console;

namespace Shmap.Cli.Output;

/// <summary>What a long job reports: a phase, bytes done of a total (if known) and items.</summary>
internal sealed record ProgressState(string Phase, long Bytes, long? TotalBytes, long Items, string ItemName);

/// <summary>
/// Runs a job on a worker thread. When it takes more than a moment and stderr is a terminal it
/// draws a progress bar there (bytes, items, rate); otherwise it prints nothing, so pipes and
/// logs stay clean.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>How long a job runs before a bar appears: quick jobs never flash one.</summary>
    private static readonly TimeSpan s_delay = TimeSpan.FromMilliseconds(300);

    public static T Run<T>(CliContext context, Func<T> job, Func<ProgressState> state)
    {
        Task<T> task = Task.Factory.StartNew(job, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!context.Streams.ErrorIsTerminal || task.Wait(s_delay))
        {
            return task.GetAwaiter().GetResult();
        }

        IAnsiConsole console = context.ErrorConsole();
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn(),
                new TransferSpeedColumn(),
                new ElapsedTimeColumn(),
                new SpinnerColumn())
            .Start(progress =>
            {
                ProgressState first = state();
                ProgressTask bar = progress.AddTask(Describe(first), maxValue: first.TotalBytes ?? 1);
                bar.IsIndeterminate = first.TotalBytes is null;
                while (!task.Wait(100))
                {
                    Update(bar, state());
                }

                Update(bar, state());
                if (task.IsCompletedSuccessfully)
                {
                    bar.IsIndeterminate = false;
                    bar.MaxValue = Math.Max(bar.Value, 1);
                    bar.Value = bar.MaxValue;
                }

                bar.StopTask();
            });
        return task.GetAwaiter().GetResult();
    }

    private static void Update(ProgressTask bar, ProgressState state)
    {
        bar.Description = Describe(state);
        if (state.TotalBytes is { } total)
        {
            bar.MaxValue = Math.Max(total, 1);
        }

        bar.Value = state.Bytes;
    }

    private static string Describe(ProgressState state) => Markup.Escape($"{state.Phase,-10} {Display.Count(state.Items),11} {state.ItemName}");
}
