namespace Shmap.Cli.Demo;

/// <summary>
/// User profiles keyed by id: <c>user:%08d</c> → a JSON object of about 80 bytes, 56% of them
/// with non-ASCII text (São Paulo, Zoë, 上海). The demo's data and the benchmarks'
/// "profiles" workload (this file is compiled into both), deterministic from the seed.
/// </summary>
internal static class Profiles
{
    private static readonly string[] s_first = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia", "Edsger", "Frances", "Tim", "Hedy", "Niklaus", "Katherine", "Bjarne", "Sophie", "John", "Anita", "Guido", "明", "Søren", "José", "Zoë"];
    private static readonly string[] s_last = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Perlman", "Dijkstra", "Allen", "Berners-Lee", "Lamarr", "Wirth", "Johnson", "Stroustrup", "Wilson", "McCarthy", "Borg", "van Rossum", "王", "Kierkegaard", "Núñez", "Kovács"];
    private static readonly string[] s_cities = ["Lisbon", "Berlin", "Nairobi", "São Paulo", "Osaka", "Toronto", "Melbourne", "Reykjavík", "Chennai", "Kraków", "上海", "Austin", "Lagos", "Montréal", "Zürich"];
    private static readonly string[] s_plans = ["free", "free", "free", "pro", "pro", "team", "enterprise"];

    /// <summary>The key of user <paramref name="id"/> (ids below 100,000,000 all have 13 chars).</summary>
    public static string Key(int id) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"user:{id:D8}");

    /// <summary>The next profile drawn from <paramref name="random"/>.</summary>
    public static string Value(Random random)
    {
        string name = s_first[random.Next(s_first.Length)] + " " + s_last[random.Next(s_last.Length)];
        string city = s_cities[random.Next(s_cities.Length)];
        string plan = s_plans[random.Next(s_plans.Length)];
        int since = 2010 + random.Next(16);
        int logins = random.Next(100_000);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"name\":\"{name}\",\"city\":\"{city}\",\"plan\":\"{plan}\",\"since\":{since},\"logins\":{logins}}}");
    }
}
