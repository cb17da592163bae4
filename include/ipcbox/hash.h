/* ipcbox streaming hashes for transfer integrity: XXH3-128 (libxxhash)
 * and SHA-256 (OpenSSL libcrypto EVP). One object, fed in pieces, asked
 * for the digest at any point without disturbing it (so a receiver can
 * hash a resume prefix and go on from there). */
#ifndef IPCBOX_HASH_H
#define IPCBOX_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "ipcbox/frame.h"

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* An incremental hash of one algorithm (opaque). */
typedef struct ibx_hash ibx_hash;

/* Create a hash of algo (IBX_HASH_XXH3 or IBX_HASH_SHA256). Returns 0,
 * -EINVAL for an unknown algo or -ENOMEM. */
int ibx_hash_new(ibx_hash **out, int algo);
/* Free h (NULL is fine). */
void ibx_hash_free(ibx_hash *h);
/* Start over (empty input). Returns 0 or -EIO. */
int ibx_hash_reset(ibx_hash *h);
/* Feed n bytes. Returns 0 or -EIO. */
int ibx_hash_update(ibx_hash *h, const void *p, size_t n);
/* Write the digest of everything fed so far to out (ibx_hash_algo_len
 * bytes, canonical big-endian) without ending the stream. Returns the
 * digest length or -EIO. */
int ibx_hash_digest(ibx_hash *h, uint8_t out[IBX_FRAME_HASH_MAX]);
/* The algorithm of h. */
int ibx_hash_algo(const ibx_hash *h);

/* Feed bytes [from, to) of file fd (pread). Returns 0 or -errno (-EIO
 * when the file is shorter). */
int ibx_hash_file_range(ibx_hash *h, int fd, uint64_t from, uint64_t to);

/* Hex form of a digest into out (2*n+1 bytes). Returns out. */
char *ibx_hash_hex(const uint8_t *digest, size_t n, char *out);

#pragma GCC visibility pop

#endif
