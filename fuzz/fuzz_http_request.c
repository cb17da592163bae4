/* libFuzzer harness: the request-head parser, the chunked decoder on what
 * follows the head, and path normalisation of the target. Checks the
 * parser's contract: restartable (the same result whether fed whole or
 * after an incomplete prefix), results within bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbox/http.h"
#include "ipcbox/http_fields.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ibx_http_request req;
    const char *buf = (const char *)data;
    ssize_t r = ibx_http_parse_request(buf, size, 0, &req);
    if (r == IBX_HTTP_ERROR) {
        int st = req.status;
        if (st != 400 && st != 414 && st != 431 && st != 501 && st != 505)
            abort();
    } else if (r >= 0) {
        if ((size_t)r > size || req.nheaders > IBX_HTTP_MAX_HEADERS)
            abort();
        char path[4096];
        struct ibx_http_str q;
        int n = ibx_http_path_normalize(req.target.p, req.target.n, path,
                                        sizeof path, &q);
        if (n >= 0) {
            if (path[0] != '/' || strlen(path) != (size_t)n ||
                strstr(path, "/../") || strstr(path, "//") || memchr(path, '\\', (size_t)n))
                abort();
        }
        struct ibx_http_chunked d = {0};
        size_t off = (size_t)r;
        while (off < size && !ibx_http_chunked_done(&d)) {
            struct ibx_http_str body;
            ssize_t k = ibx_http_chunked_step(&d, buf + off, size - off, &body);
            if (k < 0)
                break;
            if (k == 0 || (size_t)k > size - off || body.n > (size_t)k)
                abort();
            off += (size_t)k;
        }
    }
    /* restartability: a prefix then the whole must agree with one call */
    if (size > 1) {
        size_t half = size / 2;
        ssize_t a = ibx_http_parse_request(buf, half, 0, &req);
        if (a == IBX_HTTP_INCOMPLETE) {
            ssize_t b = ibx_http_parse_request(buf, size, half, &req);
            if (b != r)
                abort();
        }
    }
    return 0;
}
