/* Streaming XXH3-128 and SHA-256 behind one small interface, plus
 * hashing a byte range of a file. */
#include "ipcbox/hash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>
#if defined(__x86_64__) && __has_include(<xxh_x86dispatch.h>)
/* the same hash, using AVX2 or AVX-512 when the CPU has them (chosen at
 * run time; Debian's library is built for baseline x86-64 otherwise) */
#include <xxh_x86dispatch.h>
#endif

struct ibx_hash {
    int algo;
    XXH3_state_t *xxh;
    EVP_MD_CTX *md;
};

int ibx_hash_new(ibx_hash **out, int algo)
{
    if (algo != IBX_HASH_XXH3 && algo != IBX_HASH_SHA256)
        return -EINVAL;
    ibx_hash *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->algo = algo;
    if (algo == IBX_HASH_XXH3)
        h->xxh = XXH3_createState();
    else
        h->md = EVP_MD_CTX_new();
    if ((!h->xxh && !h->md) || ibx_hash_reset(h) < 0) {
        ibx_hash_free(h);
        return -ENOMEM;
    }
    *out = h;
    return 0;
}

void ibx_hash_free(ibx_hash *h)
{
    if (!h)
        return;
    if (h->xxh)
        XXH3_freeState(h->xxh);
    if (h->md)
        EVP_MD_CTX_free(h->md);
    free(h);
}

int ibx_hash_algo(const ibx_hash *h) { return h->algo; }

int ibx_hash_reset(ibx_hash *h)
{
    if (h->xxh)
        return XXH3_128bits_reset(h->xxh) == XXH_OK ? 0 : -EIO;
    return EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

int ibx_hash_update(ibx_hash *h, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (h->xxh)
        return XXH3_128bits_update(h->xxh, p, n) == XXH_OK ? 0 : -EIO;
    return EVP_DigestUpdate(h->md, p, n) == 1 ? 0 : -EIO;
}

int ibx_hash_digest(ibx_hash *h, uint8_t out[IBX_FRAME_HASH_MAX])
{
    if (h->xxh) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->xxh));
        for (size_t i = 0; i < sizeof c.digest; i++)
            out[i] = c.digest[i];
        return (int)sizeof c.digest;
    }
    /* finish a copy so that the stream itself can go on */
    EVP_MD_CTX *tmp = EVP_MD_CTX_new();
    unsigned len = 0;
    int ok = tmp && EVP_MD_CTX_copy_ex(tmp, h->md) == 1 &&
             EVP_DigestFinal_ex(tmp, out, &len) == 1;
    EVP_MD_CTX_free(tmp);
    return ok ? (int)len : -EIO;
}

int ibx_hash_file_range(ibx_hash *h, int fd, uint64_t from, uint64_t to)
{
    /* pread, not mmap: a file truncated under us must give an error, not
     * SIGBUS; the chunk stays in L2 while it is hashed */
    enum { CHUNK = 256 * 1024 };
    if (from >= to)
        return 0;
    char *buf = malloc(CHUNK);
    if (!buf)
        return -ENOMEM;
    int r = 0;
    while (from < to && r == 0) {
        size_t want = to - from < CHUNK ? (size_t)(to - from) : CHUNK;
        ssize_t n = pread(fd, buf, want, (off_t)from);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : -EIO;
        } else {
            r = ibx_hash_update(h, buf, (size_t)n);
            from += (uint64_t)n;
        }
    }
    free(buf);
    return r;
}

char *ibx_hash_hex(const uint8_t *digest, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}
