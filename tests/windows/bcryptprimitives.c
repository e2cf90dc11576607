/* ProcessPrng for Wine 8. Rust's std (1.78 and later) gets its random bytes
 * from ProcessPrng in bcryptprimitives.dll, which Wine 8.0 does not have.
 * scripts/windows.sh builds this file into a bcryptprimitives.dll placed
 * beside the test executable; it fills the buffer with advapi32's
 * RtlGenRandom (exported as SystemFunction036), which Wine has. Not needed
 * on Windows 10 and later. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
