/* Process pool: the record format shared by the parent and its workers.
 * A record is a pool_rec_hdr (count, kind) then count entries, each a
 * pool_ent_hdr (len, word) and len bytes padded to 8. Pure functions; the
 * parent walks records a worker wrote, so every length is checked against
 * the record and against the largest payload allowed, and a record must
 * be used exactly (no trailing bytes). */
#include <errno.h>
#include <string.h>

#include "pool_internal.h"

int ibx__pool_rec_begin(struct pool_rec_iter *it, const void *rec, size_t len,
                        uint32_t kind, size_t max_len)
{
    struct pool_rec_hdr h;
    if (len < POOL_REC_HDR)
        return -EPROTO;
    memcpy(&h, rec, sizeof h);
    if (h.kind != kind || h.count == 0)
        return -EPROTO;
    it->rec = rec;
    it->len = len;
    it->off = POOL_REC_HDR;
    it->left = h.count;
    it->max_len = max_len;
    return 0;
}

int ibx__pool_rec_next(struct pool_rec_iter *it, const void **data,
                       uint32_t *len, int32_t *word)
{
    if (it->left == 0)
        return it->off == it->len ? 0 : -EPROTO;
    struct pool_ent_hdr e;
    if (it->len - it->off < POOL_ENT_HDR)
        return -EPROTO;
    memcpy(&e, it->rec + it->off, sizeof e);
    if (e.len > it->max_len || pool_ent_size(e.len) > it->len - it->off)
        return -EPROTO;
    *data = it->rec + it->off + POOL_ENT_HDR;
    *len = e.len;
    *word = e.word;
    it->off += pool_ent_size(e.len);
    it->left--;
    return 1;
}

void *ibx__pool_rec_put(unsigned char *rec, size_t *used, uint32_t len,
                        int32_t word)
{
    struct pool_ent_hdr e = {len, word};
    unsigned char *at = rec + *used;
    memcpy(at, &e, sizeof e);
    size_t pad = pool_ent_size(len) - POOL_ENT_HDR - len;
    if (pad)
        memset(at + POOL_ENT_HDR + len, 0, pad);
    *used += pool_ent_size(len);
    return at + POOL_ENT_HDR;
}
