using System.Globalization;
using Shmap.Tests.Scale;

namespace Shmap.Tests.Fuzz;

/// <summary>
/// The entry point of Shmap.Tests.dll when the tests run it as a child process
/// (<c>dotnet Shmap.Tests.dll MODE ...</c>): work that may crash, hang or needs its own peak-memory
/// figure runs there, not in the test runner. The test SDK's generated empty Main is turned off in
/// the project file (GenerateProgramFile) so that this one is used; test discovery is unaffected.
/// </summary>
internal static unsafe class ChildProgram
{
    public static int Main(string[] args)
    {
        switch (args)
        {
            case ["fuzz-child", string seed, string first, string count, string directory]:
                return CampaignChild.Run(Int(seed), long.Parse(first, CultureInfo.InvariantCulture), long.Parse(count, CultureInfo.InvariantCulture), directory);
            case ["guard-selftest", string what]:
                return GuardSelfTest(what);
            case ["scale-build", string directory, string name, string bytes]:
                return ScaleBuildChild.Run(directory, name, long.Parse(bytes, CultureInfo.InvariantCulture));
            default:
                Console.Error.WriteLine("usage: dotnet Shmap.Tests.dll fuzz-child SEED FIRST COUNT DIR | scale-build DIR NAME BYTES");
                return 2;
        }
    }

    /// <summary>Reads one byte past a guard (it must kill this process): proves the guards are armed.</summary>
    private static unsafe int GuardSelfTest(string what)
    {
        if (what == "copy")
        {
            using GuardPages.Guarded guarded = GuardPages.Copy(new byte[1000]);
            fixed (byte* start = guarded.Span)
            {
                Console.Out.WriteLine("reading");
                Console.Out.WriteLine(start[1000]);
            }
        }
        else
        {
            string path = Path.Combine(what, "selftest.shmap");
            File.WriteAllBytes(path, new SharedMapBuilder { ["k"] = "v" }.Dump());
            SharedMap.OpenFile(path).Dispose(); // the first open loads and compiles code, which maps memory too
            using GuardPages.Hole hole = GuardPages.ReserveHole(new FileInfo(path).Length);
            using SharedMap map = SharedMap.OpenFile(path);
            Console.Out.WriteLine(hole.Holds(path) ? "landed" : "missed");
            Console.Out.WriteLine(hole.ReadPastEnd());
        }

        return 0;
    }

    private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);
}
