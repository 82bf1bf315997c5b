/* Stand-in for Windows' icuuc.dll (the system ICU since Windows 10 1703), for the Wine test only (never
 * shipped). Qt6Core.dll imports ICU's converter functions from it for QStringConverter's extra codecs;
 * Wine 8.0 has no ICU. This DLL offers no converter: ucnv_open fails with U_FILE_ACCESS_ERROR and the list
 * of available converters is empty, so Qt keeps to its built-in codecs (UTF-8/16/32, Latin-1, system). */
#include <stddef.h>
#include <stdint.h>

typedef int UErrorCode;
typedef uint16_t UChar;
typedef int8_t UBool;
typedef struct UConverter UConverter;
typedef void (*UConverterCallback)(void);

#define U_FILE_ACCESS_ERROR 4
#define API __declspec(dllexport)

static void fail(UErrorCode *err)
{
    if (err && *err <= 0)
        *err = U_FILE_ACCESS_ERROR;
}

API UConverter *ucnv_open(const char *name, UErrorCode *err) { (void)name; fail(err); return NULL; }
API void ucnv_close(UConverter *cnv) { (void)cnv; }
API void ucnv_reset(UConverter *cnv) { (void)cnv; }
API int32_t ucnv_countAvailable(void) { return 0; }
API const char *ucnv_getAvailableName(int32_t n) { (void)n; return NULL; }
API const char *ucnv_getStandardName(const char *name, const char *standard, UErrorCode *err)
{
    (void)name; (void)standard; fail(err); return NULL;
}
API const char *ucnv_getName(const UConverter *cnv, UErrorCode *err) { (void)cnv; fail(err); return NULL; }
API int8_t ucnv_getMaxCharSize(const UConverter *cnv) { (void)cnv; return 1; }
API int32_t ucnv_toUCountPending(const UConverter *cnv, UErrorCode *err) { (void)cnv; fail(err); return 0; }
API int32_t ucnv_fromUCountPending(const UConverter *cnv, UErrorCode *err) { (void)cnv; fail(err); return 0; }
API void ucnv_toUnicode(UConverter *cnv, UChar **target, const UChar *targetLimit, const char **source,
                        const char *sourceLimit, int32_t *offsets, UBool flush, UErrorCode *err)
{
    (void)cnv; (void)target; (void)targetLimit; (void)source; (void)sourceLimit; (void)offsets; (void)flush;
    fail(err);
}
API void ucnv_fromUnicode(UConverter *cnv, char **target, const char *targetLimit, const UChar **source,
                          const UChar *sourceLimit, int32_t *offsets, UBool flush, UErrorCode *err)
{
    (void)cnv; (void)target; (void)targetLimit; (void)source; (void)sourceLimit; (void)offsets; (void)flush;
    fail(err);
}
API void ucnv_getToUCallBack(const UConverter *cnv, UConverterCallback *action, const void **context)
{
    (void)cnv;
    if (action) *action = NULL;
    if (context) *context = NULL;
}
API void ucnv_getFromUCallBack(const UConverter *cnv, UConverterCallback *action, const void **context)
{
    (void)cnv;
    if (action) *action = NULL;
    if (context) *context = NULL;
}
API void ucnv_setToUCallBack(UConverter *cnv, UConverterCallback action, const void *context,
                             UConverterCallback *oldAction, const void **oldContext, UErrorCode *err)
{
    (void)cnv; (void)action; (void)context; (void)oldAction; (void)oldContext; fail(err);
}
API void ucnv_setFromUCallBack(UConverter *cnv, UConverterCallback action, const void *context,
                               UConverterCallback *oldAction, const void **oldContext, UErrorCode *err)
{
    (void)cnv; (void)action; (void)context; (void)oldAction; (void)oldContext; fail(err);
}
/* The callbacks and the helpers they use: never reached, as no converter is ever opened. */
API void UCNV_FROM_U_CALLBACK_SUBSTITUTE(void) {}
API void UCNV_TO_U_CALLBACK_SUBSTITUTE(void) {}
API void ucnv_cbFromUWriteUChars(void) {}
API void ucnv_cbToUWriteUChars(void) {}
