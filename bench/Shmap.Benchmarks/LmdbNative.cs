using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using LightningDB;

namespace Shmap.Benchmarks;

/// <summary>
/// Makes LightningDB load the liblmdb.so this project compiles from the package's own LMDB sources
/// (see the CompileLmdb target in the csproj): the prebuilt one in the package needs glibc 2.38.
/// </summary>
internal static class LmdbNative
{
    private const string LibraryName = "lmdb";
    private const string FileName = "liblmdb.so";

    private static readonly Lock s_gate = new();
    private static bool s_installed;

    /// <summary>Where the compiled library is expected: next to the benchmark assembly.</summary>
    public static string LibraryPath => Path.Combine(AppContext.BaseDirectory, FileName);

    /// <summary>Installs the resolver for LightningDB's assembly (once per process; later calls do nothing).</summary>
    public static void Install()
    {
        lock (s_gate)
        {
            if (s_installed)
            {
                return;
            }

            NativeLibrary.SetDllImportResolver(typeof(LightningEnvironment).Assembly, Resolve);
            s_installed = true;
        }
    }

    /// <summary>
    /// Installs the resolver, then puts and gets one entry in a throwaway environment under
    /// <paramref name="directory"/>: proves the native library loads and works before anything is measured.
    /// </summary>
    /// <returns>A line describing the library that answered.</returns>
    public static string SelfCheck(string directory)
    {
        Install();
        string path = Path.Combine(directory, "lmdb-self-check");
        Directory.CreateDirectory(path);
        try
        {
            using var env = new LightningEnvironment(path, new EnvironmentConfiguration { MapSize = 1 << 20, MaxDatabases = 1 });
            env.Open(EnvironmentOpenFlags.NoSync);
            byte[] key = "self-check-key"u8.ToArray();
            byte[] value = "self-check-value"u8.ToArray();
            using (LightningTransaction write = env.BeginTransaction())
            using (LightningDatabase db = write.OpenDatabase(configuration: new DatabaseConfiguration { Flags = DatabaseOpenFlags.Create }))
            {
                Expect(write.Put(db, key, value, PutOptions.None), "put");
                Expect(write.Commit(), "commit");
            }

            using (LightningTransaction read = env.BeginTransaction(TransactionBeginFlags.ReadOnly))
            using (LightningDatabase db = read.OpenDatabase())
            {
                (MDBResultCode code, _, MDBValue found) = read.Get(db, key);
                Expect(code, "get");
                if (!found.AsSpan().SequenceEqual(value))
                {
                    throw new InvalidOperationException($"LMDB self-check read back '{Encoding.UTF8.GetString(found.AsSpan())}' instead of the value it stored.");
                }

                (MDBResultCode missing, _, _) = read.Get(db, "absent"u8);
                if (missing != MDBResultCode.NotFound)
                {
                    throw new InvalidOperationException($"LMDB self-check: get of an absent key returned {missing}, not NotFound.");
                }
            }

            return $"LMDB {env.Version.Major}.{env.Version.Minor}.{env.Version.Patch} from {LibraryPath}: put/get OK";
        }
        finally
        {
            Directory.Delete(path, recursive: true);
        }
    }

    /// <summary>Throws unless <paramref name="code"/> is success.</summary>
    public static void Expect(MDBResultCode code, string operation)
    {
        if (code != MDBResultCode.Success)
        {
            throw new InvalidOperationException($"LMDB {operation} failed: {code}.");
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibraryName)
        {
            return IntPtr.Zero;
        }

        string path = LibraryPath;
        if (!File.Exists(path))
        {
            throw new DllNotFoundException($"{path} is missing: it is compiled from the LightningDB package's LMDB sources at build time (target CompileLmdb); build the project with a C compiler ('cc') on the PATH.");
        }

        return NativeLibrary.Load(path);
    }
}
