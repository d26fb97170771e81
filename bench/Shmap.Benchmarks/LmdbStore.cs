using System.Text;
using LightningDB;

namespace Shmap.Benchmarks;

/// <summary>
/// The LightningDB peer: an LMDB environment on tmpfs holding the dataset, and one read-only
/// transaction kept open for lookups (LMDB's cheapest read path).
/// </summary>
internal sealed class LmdbStore : IDisposable
{
    private readonly LightningEnvironment _environment;
    private readonly LightningDatabase _database;

    private LmdbStore(LightningEnvironment environment, LightningDatabase database)
    {
        _environment = environment;
        _database = database;
        Transaction = environment.BeginTransaction(TransactionBeginFlags.ReadOnly);
    }

    public LightningTransaction Transaction { get; }

    public LightningDatabase Database => _database;

    /// <summary>Creates an environment under <paramref name="directory"/> and loads every entry in one write transaction.</summary>
    public static LmdbStore Create(string directory, string[] keys, string[] values)
    {
        LmdbNative.Install();
        // Sorted by UTF-8 bytes (LMDB's default memcmp order) so that AppendData builds packed pages.
        var pairs = new (byte[] Key, byte[] Value)[keys.Length];
        long bytes = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            pairs[i] = (Encoding.UTF8.GetBytes(keys[i]), Encoding.UTF8.GetBytes(values[i]));
            bytes += pairs[i].Key.Length + pairs[i].Value.Length;
        }

        Array.Sort(pairs, static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));

        var configuration = new EnvironmentConfiguration
        {
            // Generous: pages plus per-node overhead stay far below 4x the raw bytes.
            MapSize = Math.Max(64L << 20, bytes * 4),
            MaxDatabases = 1,
        };
        var environment = new LightningEnvironment(directory, configuration);
        try
        {
            // NoThreadLocalStorage: the read transaction is not tied to the thread that opened it.
            environment.Open(EnvironmentOpenFlags.NoSync | EnvironmentOpenFlags.NoMetaSync | EnvironmentOpenFlags.NoThreadLocalStorage);
            LightningDatabase database;
            using (LightningTransaction write = environment.BeginTransaction())
            {
                database = write.OpenDatabase(configuration: new DatabaseConfiguration { Flags = DatabaseOpenFlags.Create }, closeOnDispose: false);
                foreach ((byte[] key, byte[] value) in pairs)
                {
                    LmdbNative.Expect(write.Put(database, key, value, PutOptions.AppendData), "put");
                }

                LmdbNative.Expect(write.Commit(), "commit");
            }

            return new LmdbStore(environment, database);
        }
        catch
        {
            environment.Dispose();
            throw;
        }
    }

    public long Count => Transaction.GetEntriesCount(_database);

    /// <summary>The value stored under <paramref name="key"/>, or null.</summary>
    public string? Get(string key)
    {
        (MDBResultCode code, _, MDBValue value) = Transaction.Get(_database, Encoding.UTF8.GetBytes(key));
        return code switch
        {
            MDBResultCode.Success => Encoding.UTF8.GetString(value.AsSpan()),
            MDBResultCode.NotFound => null,
            _ => throw new InvalidOperationException($"LMDB get failed: {code}."),
        };
    }

    public void Dispose()
    {
        Transaction.Dispose();
        _database.Dispose();
        _environment.Dispose();
    }
}
