/* Unit tests for the transfer hashes: known SHA-256 vectors, XXH3-128
 * against the one-shot libxxhash call, digests that do not end the stream,
 * and hashing file ranges. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "ipcbox/hash.h"

static void test_sha256_vectors(void **state)
{
    (void)state;
    ibx_hash *h;
    uint8_t d[IBX_FRAME_HASH_MAX];
    char hex[2 * IBX_FRAME_HASH_MAX + 1];
    assert_int_equal(ibx_hash_new(&h, IBX_HASH_SHA256), 0);
    assert_int_equal(ibx_hash_digest(h, d), 32);
    assert_string_equal(ibx_hash_hex(d, 32, hex),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(ibx_hash_update(h, "a", 1), 0);
    assert_int_equal(ibx_hash_update(h, "bc", 2), 0);
    assert_int_equal(ibx_hash_digest(h, d), 32);
    assert_string_equal(ibx_hash_hex(d, 32, hex),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* the digest did not end the stream */
    assert_int_equal(ibx_hash_update(h, "dbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 53), 0);
    ibx_hash_digest(h, d);
    ibx_hash_reset(h);
    ibx_hash_update(h, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
    uint8_t d2[IBX_FRAME_HASH_MAX];
    ibx_hash_digest(h, d2);
    assert_memory_equal(d, d2, 32);
    assert_string_equal(ibx_hash_hex(d2, 32, hex),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    ibx_hash_free(h);
}

static void test_xxh3_matches_oneshot(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint8_t *buf = malloc(N);
    assert_non_null(buf);
    for (size_t i = 0; i < N; i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 7));
    ibx_hash *h;
    assert_int_equal(ibx_hash_new(&h, IBX_HASH_XXH3), 0);
    assert_int_equal(ibx_hash_algo(h), IBX_HASH_XXH3);
    for (size_t off = 0; off < N;) {
        size_t n = off % 7 == 0 ? 1 : 4093;
        if (n > N - off)
            n = N - off;
        ibx_hash_update(h, buf + off, n);
        off += n;
    }
    uint8_t d[IBX_FRAME_HASH_MAX];
    assert_int_equal(ibx_hash_digest(h, d), 16);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(buf, N));
    assert_memory_equal(d, c.digest, 16);
    ibx_hash_free(h);
    free(buf);
    assert_int_equal(ibx_hash_new(&h, 7), -EINVAL);
}

static void test_file_range(void **state)
{
    (void)state;
    char path[] = "/tmp/ipcbox-test-hash-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    enum { N = 700000 };   /* several read chunks, not a multiple of one */
    uint8_t *buf = malloc(N);
    assert_non_null(buf);
    for (size_t i = 0; i < N; i++)
        buf[i] = (uint8_t)(i ^ (i >> 9));
    assert_int_equal(write(fd, buf, N), N);

    static const int algos[] = {IBX_HASH_XXH3, IBX_HASH_SHA256};
    for (size_t a = 0; a < 2; a++) {
        ibx_hash *f, *m;
        uint8_t df[IBX_FRAME_HASH_MAX], dm[IBX_FRAME_HASH_MAX];
        assert_int_equal(ibx_hash_new(&f, algos[a]), 0);
        assert_int_equal(ibx_hash_new(&m, algos[a]), 0);
        /* a prefix, then the rest: same as the whole in memory */
        assert_int_equal(ibx_hash_file_range(f, fd, 0, 12345), 0);
        assert_int_equal(ibx_hash_file_range(f, fd, 12345, N), 0);
        ibx_hash_update(m, buf, N);
        int len = ibx_hash_digest(f, df);
        assert_int_equal(ibx_hash_digest(m, dm), len);
        assert_memory_equal(df, dm, (size_t)len);
        /* a range past the end of the file is an error */
        assert_int_equal(ibx_hash_file_range(f, fd, N - 10, N + 10), -EIO);
        ibx_hash_free(f);
        ibx_hash_free(m);
    }
    free(buf);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_xxh3_matches_oneshot),
        cmocka_unit_test(test_file_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
