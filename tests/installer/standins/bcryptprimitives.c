/* Stand-in for Windows' bcryptprimitives.dll, for the Wine test only (never shipped).
 *
 * The Rust standard library inside cryptography's _rust.pyd imports ProcessPrng from bcryptprimitives.dll,
 * which Wine has only from 8.13 on; Debian 12's Wine is 8.0. This DLL provides ProcessPrng on top of
 * BCryptGenRandom with the system-preferred RNG, which Wine 8.0 implements. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
