/* libFuzzer harness for the process pool's record format (pool_wire.c):
 * the parent walks result records a worker wrote, and a worker's memory
 * may be corrupted by the function it runs, so whatever a record holds,
 *   - ibx__pool_rec_next only returns payloads inside the record, no
 *     larger than the limit, and ends (0 or -EPROTO) within count steps;
 *   - a record re-encoded from the entries it yielded walks the same.
 * Input byte 0 sets the payload limit; the rest is the record. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/pool_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_len = (size_t)data[0] * 4;
    const unsigned char *rec = data + 1;
    size_t len = size - 1;
    struct pool_rec_iter it;
    if (ibx__pool_rec_begin(&it, rec, len, POOL_REC_RESULTS, max_len) < 0)
        return 0;
    unsigned char *copy = malloc(len);
    if (!copy)
        return 0;
    size_t used = POOL_REC_HDR;
    uint32_t count = it.left, seen = 0;
    const void *p;
    uint32_t n;
    int32_t word;
    int r;
    while ((r = ibx__pool_rec_next(&it, &p, &n, &word)) == 1) {
        const unsigned char *b = p;
        if (b < rec || b + n > rec + len || n > max_len || ++seen > count)
            abort();
        if (pool_ent_size(n) > len - used)
            abort();    /* the walk accepted more bytes than there are */
        memcpy(ibx__pool_rec_put(copy, &used, n, word), p, n);
    }
    if (r == 0) {       /* valid: its re-encoding is the same record */
        struct pool_rec_hdr h = {count, POOL_REC_RESULTS};
        memcpy(copy, &h, sizeof h);
        if (seen != count || used != len)
            abort();
        struct pool_rec_iter a, b;
        if (ibx__pool_rec_begin(&a, copy, used, POOL_REC_RESULTS, max_len) < 0 ||
            ibx__pool_rec_begin(&b, rec, len, POOL_REC_RESULTS, max_len) < 0)
            abort();
        const void *pa, *pb;
        uint32_t na, nb;
        int32_t wa, wb;
        int ra, rb;
        do {
            ra = ibx__pool_rec_next(&a, &pa, &na, &wa);
            rb = ibx__pool_rec_next(&b, &pb, &nb, &wb);
            if (ra != rb || (ra == 1 && (na != nb || wa != wb || memcmp(pa, pb, na))))
                abort();
        } while (ra == 1);
    } else if (r != -EPROTO) {
        abort();
    }
    free(copy);
    return 0;
}
