using System.Diagnostics;
using System.Globalization;
using System.Text;
using Shmap;
using Shmap.TestReader;

// Usage: Shmap.TestReader <directory>
// Reads one command per line on stdin and answers one line on stdout:
//   open NAME        hold NAME open                   -> ok VERSION COUNT | notfound
//   check            read all of the held map         -> ok VERSION COUNT CHECKSUM | bad WHAT
//   fresh NAME       open NAME, read it all, close it -> ok VERSION COUNT CHECKSUM | notfound | bad WHAT
//   spin             read the held map in a loop on a thread -> ok
//   stop             stop that loop                   -> ok ITERATIONS FAILURES [FIRST FAILURE]
//   follow NAME MS   open NAME again and again for MS ms; every snapshot must be self-consistent
//                    (Verify passes, VersionedCount entries, every value VersionedValue)
//                                                     -> ok OPENS DISTINCT_VERSIONS BAD [FIRST BAD]
//   share NAME N B   share (force) N entries with B-byte values -> ok VERSION
//   quit             exit
// Any exception answers "error TYPE MESSAGE". End of input exits too (the parent died).
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Shmap.TestReader <directory>");
    return 2;
}

var options = new SharedMapOptions { Directory = args[0] };
SharedMap? held = null;
Thread? spinner = null;
var spinStop = new ManualResetEventSlim();
long spinIterations = 0;
long spinFailures = 0;
string? spinFirstFailure = null;
Console.OutputEncoding = new UTF8Encoding(false);

string? line;
while ((line = Console.ReadLine()) is not null)
{
    string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (words.Length == 0)
    {
        continue;
    }

    string reply;
    try
    {
        reply = words[0] switch
        {
            "open" => Open(words[1]),
            "check" => Check(held ?? throw new InvalidOperationException("nothing held")),
            "fresh" => Fresh(words[1]),
            "spin" => Spin(),
            "stop" => Stop(),
            "follow" => Follow(words[1], int.Parse(words[2], CultureInfo.InvariantCulture)),
            "share" => Share(words[1], int.Parse(words[2], CultureInfo.InvariantCulture), int.Parse(words[3], CultureInfo.InvariantCulture)),
            "quit" => "bye",
            _ => throw new ArgumentException($"unknown command '{words[0]}'"),
        };
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        reply = $"error {e.GetType().Name} {e.Message.ReplaceLineEndings(" ")}";
    }

    Console.WriteLine(reply);
    Console.Out.Flush();
    if (words[0] == "quit")
    {
        break;
    }
}

Stop();
held?.Dispose();
return 0;

string Open(string name)
{
    try
    {
        SharedMap map = SharedMap.Open(name, options);
        held?.Dispose();
        held = map;
        return $"ok {map.Version} {map.Count}";
    }
    catch (SharedMapNotFoundException)
    {
        return "notfound";
    }
}

string Share(string name, int count, int valueBytes)
{
    var builder = new SharedMapBuilder();
    for (int i = 0; i < count; i++)
    {
        builder.Set("k" + i.ToString(CultureInfo.InvariantCulture), new string('v', valueBytes));
    }

    builder.Share(name, force: true, options);
    using SharedMap map = SharedMap.Open(name, options);
    return $"ok {map.Version}";
}

string Fresh(string name)
{
    try
    {
        using SharedMap map = SharedMap.Open(name, options);
        return Check(map);
    }
    catch (SharedMapNotFoundException)
    {
        return "notfound";
    }
}

// Reads every entry by enumeration, by rank and by key: all three must agree.
static string Check(SharedMap map)
{
    int count = 0;
    foreach ((string key, string value) in map)
    {
        if (map.Get(key) != value)
        {
            return $"bad Get of rank {count}";
        }

        if (!map.TryGetValue(Encoding.UTF8.GetBytes(key), out ReadOnlySpan<byte> utf8) || !utf8.SequenceEqual(Encoding.UTF8.GetBytes(value)))
        {
            return $"bad UTF-8 lookup of rank {count}";
        }

        if (map.IndexOf(key) != count || map.GetAt(count).Value != value)
        {
            return $"bad rank {count}";
        }

        count++;
    }

    if (count != map.Count)
    {
        return $"bad count {count} != {map.Count}";
    }

    return $"ok {map.Version} {count} {MapChecksum.Of(map)}";
}

string Spin()
{
    SharedMap map = held ?? throw new InvalidOperationException("nothing held");
    string expected = Check(map);
    spinStop.Reset();
    spinner = new Thread(() =>
    {
        while (!spinStop.IsSet)
        {
            string again = Check(map);
            Interlocked.Increment(ref spinIterations);
            if (again != expected)
            {
                Interlocked.Increment(ref spinFailures);
                spinFirstFailure ??= again;
            }
        }
    })
    {
        IsBackground = true,
    };
    spinner.Start();
    return "ok";
}

string Stop()
{
    if (spinner is null)
    {
        return "ok 0 0";
    }

    spinStop.Set();
    spinner.Join();
    spinner = null;
    return $"ok {spinIterations} {spinFailures} {spinFirstFailure}".TrimEnd();
}

string Follow(string name, int milliseconds)
{
    var clock = Stopwatch.StartNew();
    int opens = 0;
    int bad = 0;
    string? firstBad = null;
    var versions = new HashSet<long>();
    while (clock.ElapsedMilliseconds < milliseconds)
    {
        string? problem = null;
        try
        {
            using SharedMap map = SharedMap.Open(name, options);
            opens++;
            versions.Add(map.Version);
            map.Verify();
            if (map.Count != MapChecksum.VersionedCount(map.Version))
            {
                problem = $"version {map.Version} has {map.Count} entries";
            }

            foreach ((string key, string value) in map)
            {
                if (value != MapChecksum.VersionedValue(map.Version, key))
                {
                    problem ??= $"version {map.Version} key {key} has value {value}";
                }
            }
        }
        catch (SharedMapNotFoundException)
        {
            // Not published yet.
        }
        catch (ShmapException e)
        {
            problem = $"{e.GetType().Name}: {e.Message}";
        }

        if (problem is not null)
        {
            bad++;
            firstBad ??= problem;
        }
    }

    return $"ok {opens} {versions.Count} {bad} {firstBad}".TrimEnd();
}
