using System.Text.RegularExpressions;

namespace Shmap.Tests.Unit;

/// <summary>
/// The rooms and arrows of docs/ARCHITECTURE.md, read from the library's source: each folder is
/// one namespace, and a file uses (by <c>using Shmap.X</c> or a qualified <c>Shmap.X.</c>) only the
/// rooms its room may use; below the façades no code names a façade type.
/// </summary>
public partial class ArchitectureTests
{
    /// <summary>Room → the rooms it may use (docs/ARCHITECTURE.md, "Arrows"). Every room may use Vocabulary (the root namespace, visible to all).</summary>
    private static readonly Dictionary<string, string[]> s_allowed = new()
    {
        ["Platform"] = [],
        ["Vocabulary"] = ["Platform"],
        ["Format"] = [],
        ["Store"] = ["Format", "Platform"],
        ["Building"] = ["Format", "Platform"],
        ["Reading"] = ["Format", "Store", "Platform"],
        ["Facades"] = ["Format", "Store", "Building", "Reading", "Platform"],
    };

    /// <summary>The root files that are façades; the other root files are Vocabulary.</summary>
    private static readonly string[] s_facades = ["SharedMap.cs", "LiveSharedMap.cs", "SharedMapBuilder.cs"];

    [Fact]
    public void Library_EveryFile_UsesOnlyTheRoomsItsRoomMayUse()
    {
        var violations = new List<string>();
        foreach ((string file, string room, string code) in SourceFiles())
        {
            foreach (string used in UsedRooms(code))
            {
                if (used != room && !s_allowed[room].Contains(used))
                {
                    violations.Add($"{file} ({room}) uses Shmap.{used}");
                }
            }
        }

        Assert.True(violations.Count == 0, "Arrows broken (docs/ARCHITECTURE.md):\n" + string.Join('\n', violations));
    }

    [Fact]
    public void Library_BelowTheFacades_NoFileNamesAFacadeType()
    {
        var violations = new List<string>();
        foreach ((string file, string room, string code) in SourceFiles())
        {
            if (room == "Facades")
            {
                continue;
            }

            foreach (Match m in FacadeType().Matches(code))
            {
                violations.Add($"{file} ({room}) names {m.Value}");
            }
        }

        Assert.True(violations.Count == 0, "Reaching up to a façade:\n" + string.Join('\n', violations));
    }

    [Fact]
    public void Library_EveryFile_DeclaresTheNamespaceOfItsFolder()
    {
        var violations = new List<string>();
        string root = LibraryRoot();
        foreach (string path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Where(IsSource))
        {
            string folder = Path.GetRelativePath(root, Path.GetDirectoryName(path)!);
            string expected = folder == "." ? "Shmap" : "Shmap." + folder.Replace('/', '.');
            Match declared = NamespaceDeclaration().Match(File.ReadAllText(path));
            if (declared.Success && declared.Groups[1].Value != expected)
            {
                violations.Add($"{Path.GetRelativePath(root, path)} declares {declared.Groups[1].Value}, its folder is {expected}");
            }
        }

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void Checker_AReachingUpFile_IsCaught()
    {
        // The checker itself: a Reading file that used Building, or named SharedMap, is reported.
        const string Code = "using Shmap.Building;\nnamespace Shmap.Reading;\nclass X { SharedMap? m; /* SharedMap */ string s = \"LiveSharedMap\"; }";
        string stripped = Strip(Code);
        Assert.Equal(["Building"], UsedRooms(stripped));

        // A name qualified only from the room down resolves through the enclosing Shmap namespace.
        Assert.Equal(["Building", "Store"], UsedRooms(Strip("namespace Shmap.Format;\nclass Y { object a = Building.SnapshotWriter.Plan; int b = Store.SharedName.MaxBytes; string c = Math.Min.ToString(); }")));
        Assert.Equal(["SharedMap"], FacadeType().Matches(stripped).Select(static m => m.Value));
    }

    private static IEnumerable<(string File, string Room, string Code)> SourceFiles()
    {
        string root = LibraryRoot();
        foreach (string path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Where(IsSource))
        {
            string relative = Path.GetRelativePath(root, path);
            string folder = Path.GetDirectoryName(relative)!;
            string room = folder.Length > 0 ? folder.Split('/')[0] : s_facades.Contains(Path.GetFileName(path)) ? "Facades" : "Vocabulary";
            yield return (relative, room, Strip(File.ReadAllText(path)));
        }
    }

    private static bool IsSource(string path) => !path.Contains("/obj/", StringComparison.Ordinal) && !path.Contains("/bin/", StringComparison.Ordinal);

    /// <summary>The Shmap.X rooms a file's code names (usings, using static, qualified names), its own namespace declaration aside.</summary>
    private static string[] UsedRooms(string code) =>
        [.. RoomReference().Matches(NamespaceDeclaration().Replace(code, "")).Select(static m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).Where(static r => s_allowed.ContainsKey(r)).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Code without comments and string or char literals (crudely, enough for this source).</summary>
    private static string Strip(string code) => Literal().Replace(code, static m => m.Value.StartsWith('/') ? "" : "\"\"");

    /// <summary>src/Shmap, found upwards from the test assembly (the repository holds Shmap.slnx).</summary>
    private static string LibraryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shmap.slnx")))
            {
                return Path.Combine(dir.FullName, "src", "Shmap");
            }
        }

        throw new InvalidOperationException($"No Shmap.slnx above {AppContext.BaseDirectory}: the architecture tests read the library's source.");
    }

    /// <summary><c>Shmap.X</c>, or <c>X.Name</c> alone (inside <c>namespace Shmap.Y</c>, <c>Format.Utf8Text</c> names <c>Shmap.Format.Utf8Text</c>).</summary>
    [GeneratedRegex(@"(?<![\w.])(?:Shmap\.([A-Z]\w*)\b|([A-Z]\w*)\.[A-Z])")]
    private static partial Regex RoomReference();

    [GeneratedRegex(@"\b(SharedMap|LiveSharedMap|SharedMapBuilder)\b")]
    private static partial Regex FacadeType();

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|@""(?:[^""]|"""")*""|\$?""(?:[^""\\\n]|\\.)*""|'(?:[^'\\\n]|\\.)'", RegexOptions.Singleline)]
    private static partial Regex Literal();
}
