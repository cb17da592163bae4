/* libFuzzer harness: Range, HTTP-date, entity-tag and Accept-Encoding
 * parsing. The first 8 bytes pick the representation size; every range
 * returned must lie inside it, and so must the coalesced plan (disjoint,
 * never more bytes than the representation, covering every range
 * asked); a parsed date must format back to a date that parses to the
 * same instant. */
#include <stdbool.h>
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
    int status;
    int n = ibx_http_range_parse(v, size, fsize, r, IBX_HTTP_MAX_RANGES, &status);
    if (n < 0 || n > IBX_HTTP_MAX_RANGES || (n > 0) != (status == 206) ||
        (status != 200 && status != 206 && status != 416))
        abort();
    for (int i = 0; i < n; i++)
        if (r[i].first > r[i].last || r[i].last >= fsize)
            abort();
    if (n > 0) {
        /* the plan: parts disjoint, not adjacent, never more bytes than
         * the representation, every byte asked for still covered */
        struct ibx_http_range asked[IBX_HTTP_MAX_RANGES];
        memcpy(asked, r, sizeof r[0] * (size_t)n);
        int m = ibx_http_range_plan(r, (size_t)n, fsize);
        if (m < 0 || m > n)
            abort();
        uint64_t total = 0;
        for (int i = 0; i < m; i++) {
            if (r[i].first > r[i].last || r[i].last >= fsize)
                abort();
            total += r[i].last - r[i].first + 1;
            for (int j = 0; j < i; j++)
                if (r[i].first <= r[j].last + 1 && r[j].first <= r[i].last + 1)
                    abort();
        }
        if (total > fsize)
            abort();
        for (int k = 0; m && k < n; k++) {
            bool in = false;
            for (int i = 0; i < m && !in; i++)
                in = r[i].first <= asked[k].first && asked[k].last <= r[i].last;
            if (!in)
                abort();
        }
    }

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
