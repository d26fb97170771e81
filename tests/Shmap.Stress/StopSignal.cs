namespace Shmap.Stress;

/// <summary>
/// When a long-running verb stops: after <c>--duration</c> seconds (0: no limit), and, with
/// <c>--stop-on-stdin</c>, when stdin closes or reads "stop". Tests run children with the latter, so a
/// child whose parent dies sees end of file and exits: no orphan keeps publishing or reading.
/// </summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _source = new();

    private StopSignal(double durationSeconds, bool stopOnStdin)
    {
        if (durationSeconds > 0)
        {
            _source.CancelAfter(TimeSpan.FromSeconds(durationSeconds));
        }

        if (stopOnStdin)
        {
            var reader = new Thread(() =>
            {
                try
                {
                    string? line;
                    while ((line = Console.In.ReadLine()) is not null && line != "stop")
                    {
                    }
                }
                catch (IOException)
                {
                }

                Stop();
            })
            {
                IsBackground = true,
                Name = "stdin stop",
            };
            reader.Start();
        }
    }

    public CancellationToken Token => _source.Token;

    public bool IsStopped => _source.IsCancellationRequested;

    public static StopSignal FromOptions(Options options, double defaultDuration = 0) =>
        new(options.Double("duration", defaultDuration), options.Flag("stop-on-stdin"));

    public static StopSignal Create(double durationSeconds, bool stopOnStdin) => new(durationSeconds, stopOnStdin);

    public void Stop()
    {
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _source.Dispose();
}
