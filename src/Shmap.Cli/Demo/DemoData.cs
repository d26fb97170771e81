namespace Shmap.Cli.Demo;

/// <summary>
/// The demo's data: user profiles keyed by id, the kind of read-mostly table worker processes
/// look up constantly. Deterministic from the seed, so every run and every process agrees.
/// </summary>
internal static class DemoData
{
    /// <summary>The key the demo changes in version 2, so readers can show which version they see.</summary>
    public const string VersionKey = "demo:version";

    /// <summary>The seed project's own example (pysharedmap's README), included in every demo map.</summary>
    public static readonly (string Key, string Value)[] SeedExample = [("aaa", "323"), ("zb", "1233"), ("tes", "32z"), ("红", "32是")];

    private static readonly string[] s_first = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia", "Edsger", "Frances", "Tim", "Hedy", "Niklaus", "Katherine", "Bjarne", "Sophie", "John", "Anita", "Guido", "明", "Søren", "José", "Zoë"];
    private static readonly string[] s_last = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Perlman", "Dijkstra", "Allen", "Berners-Lee", "Lamarr", "Wirth", "Johnson", "Stroustrup", "Wilson", "McCarthy", "Borg", "van Rossum", "王", "Kierkegaard", "Núñez", "Kovács"];
    private static readonly string[] s_cities = ["Lisbon", "Berlin", "Nairobi", "São Paulo", "Osaka", "Toronto", "Melbourne", "Reykjavík", "Chennai", "Kraków", "上海", "Austin", "Lagos", "Montréal", "Zürich"];
    private static readonly string[] s_plans = ["free", "free", "free", "pro", "pro", "team", "enterprise"];

    /// <summary>The key of user <paramref name="id"/>.</summary>
    public static string Key(int id) => string.Create(CultureInfo.InvariantCulture, $"user:{id:D8}");

    /// <summary>All entries of version 1, in key order; <paramref name="count"/> users plus the seed example and the version key.</summary>
    public static IEnumerable<(string Key, string Value)> Entries(int count, int seed)
    {
        var random = new Random(seed);
        foreach ((string Key, string Value) pair in SeedExample)
        {
            yield return pair;
        }

        yield return (VersionKey, "1");
        for (int id = 0; id < count; id++)
        {
            string name = s_first[random.Next(s_first.Length)] + " " + s_last[random.Next(s_last.Length)];
            string city = s_cities[random.Next(s_cities.Length)];
            string plan = s_plans[random.Next(s_plans.Length)];
            int since = 2010 + random.Next(16);
            int logins = random.Next(100_000);
            yield return (Key(id), string.Create(CultureInfo.InvariantCulture, $"{{\"name\":\"{name}\",\"city\":\"{city}\",\"plan\":\"{plan}\",\"since\":{since},\"logins\":{logins}}}"));
        }
    }

    /// <summary>Keys to look up: random users (all present), the same for a given seed.</summary>
    public static string[] LookupKeys(int count, int seed, int howMany)
    {
        var random = new Random(seed);
        var keys = new string[howMany];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Key(random.Next(count));
        }

        return keys;
    }
}
