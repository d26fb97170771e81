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
        if (!context.Streams.ErrorIsTerminal || Finished(task, s_delay))
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
                var clock = System.Diagnostics.Stopwatch.StartNew();
                ProgressState first = state();
                ProgressTask bar = progress.AddTask(Describe(first, clock.Elapsed), maxValue: first.TotalBytes ?? 1);
                bar.IsIndeterminate = first.TotalBytes is null;
                while (!Finished(task, TimeSpan.FromMilliseconds(100)))
                {
                    Update(bar, state(), clock.Elapsed);
                }

                ProgressState last = state();
                Update(bar, last, clock.Elapsed);
                if (task.IsCompletedSuccessfully)
                {
                    bar.Description = Describe(last with { Phase = "done" }, clock.Elapsed);
                    bar.IsIndeterminate = false;
                    bar.MaxValue = Math.Max(bar.Value, 1);
                    bar.Value = bar.MaxValue;
                }

                bar.StopTask();
            });
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Waits up to <paramref name="timeout"/>; true once the job has ended, however it ended (its exception surfaces at GetResult).</summary>
    private static bool Finished(Task task, TimeSpan timeout) => ((IAsyncResult)task).AsyncWaitHandle.WaitOne(timeout) || task.IsCompleted;

    private static void Update(ProgressTask bar, ProgressState state, TimeSpan elapsed)
    {
        bar.Description = Describe(state, elapsed);
        if (state.TotalBytes is { } total)
        {
            bar.MaxValue = Math.Max(total, 1);
        }

        bar.Value = state.Bytes;
    }

    private static string Describe(ProgressState state, TimeSpan elapsed)
    {
        double perSecond = elapsed.TotalSeconds > 0.05 ? state.Items / elapsed.TotalSeconds : 0;
        string rate = perSecond >= 1e6 ? $"{perSecond / 1e6:0.00}M/s" : $"{perSecond / 1e3:0.0}k/s";
        return Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{state.Phase,-10} {Display.Count(state.Items),11} {state.ItemName} {rate,9}"));
    }
}
