using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Shmap.Platform;

/// <summary>Software prefetches, for loops that know which memory they touch next.</summary>
internal static unsafe class MemoryHint
{
    /// <summary>Asks for the cache line at <paramref name="address"/>. A prefetch never faults, whatever the address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(void* address)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(address);
        }
    }

    /// <summary>
    /// Asks for byte <paramref name="offset"/> of <paramref name="array"/> (nothing when it is past
    /// the end). The array is not pinned: if the GC moves it meanwhile, only the fetch is wasted.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(byte[] array, int offset)
    {
        if ((uint)offset < (uint)array.Length)
        {
            Prefetch(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), offset)));
        }
    }
}
