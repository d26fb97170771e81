using System.Collections.Concurrent;

namespace Shmap.Stress;

/// <summary>Counts every inconsistency and keeps the first ones' descriptions.</summary>
internal sealed class ErrorLog
{
    private const int Kept = 40;
    private readonly ConcurrentQueue<string> _first = new();
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Add(string message)
    {
        if (Interlocked.Increment(ref _count) <= Kept)
        {
            _first.Enqueue(message);
        }
    }

    public void Print(string verb)
    {
        foreach (string message in _first)
        {
            Console.Error.WriteLine($"{verb}: ERROR {message}");
        }

        if (Count > Kept)
        {
            Console.Error.WriteLine($"{verb}: … and {Count - Kept} more errors");
        }
    }
}
