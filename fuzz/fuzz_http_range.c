/* libFuzzer harness: Range, HTTP-date, entity-tag and Accept-Encoding
 * parsing. The first 8 bytes pick the representation size; every range
 * returned must lie inside it; a parsed date must format back to a date
 * that parses to the same instant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbox/http_fields.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t fsize = 0;
    if (size >= 8) {
        memcpy(&fsize, data, 8);
        fsize %= (1ULL << 40);
        data += 8;
        size -= 8;
    }
    const char *v = (const char *)data;
    struct ibx_http_range r[IBX_HTTP_MAX_RANGES];
    int n = ibx_http_range_parse(v, size, fsize, r, IBX_HTTP_MAX_RANGES);
    if (n < -1 || n > IBX_HTTP_MAX_RANGES)
        abort();
    for (int i = 0; i < n; i++)
        if (r[i].first > r[i].last || r[i].last >= fsize)
            abort();

    int64_t t;
    if (ibx_http_date_parse(v, size, &t) == 0) {
        char buf[IBX_HTTP_DATE_LEN + 1];
        int64_t t2;
        ibx_http_date_format(t, buf);
        if (t >= 0 && t < 253402300800LL &&
            (ibx_http_date_parse(buf, IBX_HTTP_DATE_LEN, &t2) != 0 || t2 != t))
            abort();
    }
    (void)ibx_http_etag_match(v, size, "\"abc-1\"", 7, true);
    (void)ibx_http_etag_match(v, size, "W/\"abc-1\"", 9, false);
    (void)ibx_http_accepts(v, size, "gzip");
    return 0;
}
