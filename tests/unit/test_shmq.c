/* Shared-memory queue, one process: ring behaviour, limits, naming. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/shmq.h"

/* A queue whose producer and consumer are both this thread. */
static ibx_shmq *pair(size_t cap, unsigned flags, ibx_shmq **cons)
{
    ibx_shmq *p = NULL;
    assert_int_equal(ibx_shmq_create(NULL, cap, flags, 0600, &p), 0);
    assert_int_equal(ibx_shmq_from_fd(ibx_shmq_fd(p), cons), 0);
    assert_int_equal(ibx_shmq_attach(p, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(ibx_shmq_attach(*cons, IBX_SHMQ_CONSUMER), 0);
    return p;
}

static void fill(unsigned char *b, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (unsigned char)(seed >> 16);
    }
}

static void test_roundtrip_and_order(void **state)
{
    ibx_shmq *c, *p = pair(8192, 0, &c);
    assert_int_equal(ibx_shmq_capacity(p), 8192);
    assert_int_equal(ibx_shmq_max_msg(p), 4096 - 8);
    unsigned char out[64];
    size_t n = 99;
    assert_int_equal(ibx_shmq_try_recv(c, out, sizeof out, &n), -EAGAIN);
    assert_int_equal(ibx_shmq_send(p, "hello", 5, 0), 0);
    assert_int_equal(ibx_shmq_send(p, "", 0, 0), 0);          /* empty message */
    assert_int_equal(ibx_shmq_send(p, "world!", 6, -1), 0);
    assert_int_equal(ibx_shmq_recv(c, out, sizeof out, &n, 0), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    assert_int_equal(ibx_shmq_recv(c, out, sizeof out, &n, 0), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ibx_shmq_recv(c, out, sizeof out, &n, 0), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "world!", 6);
    assert_int_equal(ibx_shmq_try_recv(c, out, sizeof out, &n), -EAGAIN);
    ibx_shmq_close(p);
    ibx_shmq_close(c);
}

/* Random sizes over many laps: every byte arrives, padding is invisible. */
static void test_wraparound_random_sizes(void **state)
{
    ibx_shmq *c, *p = pair(4096, 0, &c);
    size_t max = ibx_shmq_max_msg(p);
    unsigned char *in = malloc(max), *out = malloc(max);
    uint32_t rnd = 7;
    unsigned sent = 0, got = 0;
    while (got < 5000) {
        /* send until full, then drain a random number */
        for (;;) {
            rnd = rnd * 1664525u + 1013904223u;
            size_t len = (rnd >> 8) % (max + 1);
            fill(in, len, sent);
            int r = ibx_shmq_try_send(p, in, len);
            if (r == -EAGAIN)
                break;
            assert_int_equal(r, 0);
            sent++;
        }
        unsigned k = 1 + (rnd >> 20) % 4;
        for (unsigned i = 0; i < k && got < sent; i++) {
            size_t n;
            assert_int_equal(ibx_shmq_recv(c, out, max, &n, 0), 0);
            /* regenerate what message #got was */
            fill(in, n, got);
            assert_memory_equal(in, out, n);
            got++;
        }
    }
    free(in);
    free(out);
    ibx_shmq_close(p);
    ibx_shmq_close(c);
}

static void test_full_timeout_and_sizes(void **state)
{
    ibx_shmq *c, *p = pair(4096, 0, &c);
    size_t max = ibx_shmq_max_msg(p);
    unsigned char *buf = calloc(1, max + 1);
    assert_int_equal(ibx_shmq_send(p, buf, max + 1, 0), -EMSGSIZE);
    /* two max-size records fill the ring exactly */
    assert_int_equal(ibx_shmq_send(p, buf, max, 0), 0);
    assert_int_equal(ibx_shmq_send(p, buf, max, 0), 0);
    ibx_shmq_set_spin(p, 0);
    assert_int_equal(ibx_shmq_send(p, buf, 0, 0), -EAGAIN);
    assert_int_equal(ibx_shmq_send(p, buf, max, 30), -ETIMEDOUT);
    size_t n = 0;
    assert_int_equal(ibx_shmq_recv(c, buf, 10, &n, 0), -EMSGSIZE);
    assert_int_equal(n, max);                  /* told the size ... */
    assert_int_equal(ibx_shmq_recv(c, buf, max, &n, 0), 0); /* ... still there */
    assert_int_equal(n, max);
    assert_int_equal(ibx_shmq_send(p, buf, max, 0), 0);     /* room again */
    ibx_shmq_set_spin(c, 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ibx_shmq_recv(c, buf, max, &n, 0), 0);
        assert_int_equal(n, max);
    }
    assert_int_equal(ibx_shmq_recv(c, buf, max, &n, 40), -ETIMEDOUT);
    free(buf);
    ibx_shmq_close(p);
    ibx_shmq_close(c);
}

static void test_zero_copy(void **state)
{
    ibx_shmq *c, *p = pair(4096, 0, &c);
    void *w;
    assert_int_equal(ibx_shmq_commit(p, 1), -EINVAL);     /* nothing reserved */
    assert_int_equal(ibx_shmq_reserve(p, 100, &w, 0), 0);
    assert_int_equal(ibx_shmq_reserve(p, 100, &w, 0), -EINVAL); /* twice */
    memcpy(w, "abc", 3);
    const void *r;
    size_t n;
    assert_int_equal(ibx_shmq_peek(c, &r, &n, 0), -EAGAIN); /* not committed */
    assert_int_equal(ibx_shmq_commit(p, 101), -EINVAL);     /* longer than reserved */
    assert_int_equal(ibx_shmq_commit(p, 3), 0);
    assert_int_equal(ibx_shmq_peek(c, &r, &n, 0), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(r, "abc", 3);
    assert_int_equal(ibx_shmq_peek(c, &r, &n, 0), 0);       /* same again */
    assert_int_equal(n, 3);
    assert_int_equal(ibx_shmq_release(c), 0);
    assert_int_equal(ibx_shmq_release(c), -EINVAL);
    assert_int_equal(ibx_shmq_peek(c, &r, &n, 0), -EAGAIN);
    ibx_shmq_close(p);
    ibx_shmq_close(c);
}

static void test_roles(void **state)
{
    ibx_shmq *a, *b, *x;
    assert_int_equal(ibx_shmq_create(NULL, 4096, 0, 0600, &a), 0);
    assert_int_equal(ibx_shmq_from_fd(ibx_shmq_fd(a), &b), 0);
    assert_int_equal(ibx_shmq_from_fd(ibx_shmq_fd(a), &x), 0);
    size_t n;
    char buf[8];
    assert_int_equal(ibx_shmq_send(a, "x", 1, 0), -EINVAL);  /* not attached */
    assert_int_equal(ibx_shmq_recv(a, buf, 8, &n, 0), -EINVAL);
    assert_int_equal(ibx_shmq_attach(a, 0), -EINVAL);
    assert_int_equal(ibx_shmq_attach(a, IBX_SHMQ_CONSUMER), 0);
    assert_int_equal(ibx_shmq_attach(a, IBX_SHMQ_PRODUCER), -EINVAL); /* has a role */
    assert_int_equal(ibx_shmq_attach(b, IBX_SHMQ_CONSUMER), -EBUSY);
    assert_int_equal(ibx_shmq_attach(b, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(ibx_shmq_attach(x, IBX_SHMQ_PRODUCER), -EBUSY); /* single producer */
    assert_int_equal(ibx_shmq_send(a, "x", 1, 0), -EINVAL);  /* consumer cannot send */
    assert_int_equal(ibx_shmq_recv(b, buf, 8, &n, 0), -EINVAL);
    /* producer detaches: consumer drains, then sees end of stream */
    assert_int_equal(ibx_shmq_send(b, "last", 4, 0), 0);
    ibx_shmq_close(b);
    assert_int_equal(ibx_shmq_recv(a, buf, 8, &n, -1), 0);
    assert_int_equal(n, 4);
    assert_int_equal(ibx_shmq_recv(a, buf, 8, &n, -1), -EPIPE);
    assert_int_equal(ibx_shmq_try_recv(a, buf, 8, &n), -EPIPE);
    /* the slot is spent */
    assert_int_equal(ibx_shmq_attach(x, IBX_SHMQ_PRODUCER), -EBUSY);
    ibx_shmq_close(x);
    ibx_shmq_close(a);
}

static void test_consumer_closed(void **state)
{
    ibx_shmq *c, *p = pair(4096, 0, &c);
    ibx_shmq_close(c);
    assert_int_equal(ibx_shmq_send(p, "x", 1, -1), -EPIPE);
    ibx_shmq_close(p);
}

static void test_named(void **state)
{
    char name[64];
    snprintf(name, sizeof name, "/ipcbox-test-shmq-%d", (int)getpid());
    ibx_shmq *a, *b, *d;
    assert_int_equal(ibx_shmq_create("noslash", 4096, 0, 0600, &a), -EINVAL);
    assert_int_equal(ibx_shmq_create("/a/b", 4096, 0, 0600, &a), -EINVAL);
    assert_int_equal(ibx_shmq_create("/", 4096, 0, 0600, &a), -EINVAL);
    assert_int_equal(ibx_shmq_create(name, 4096, 0x80, 0600, &a), -EINVAL);
    assert_int_equal(ibx_shmq_create(name, 5000, IBX_SHMQ_MULTI_PRODUCER, 0600, &a), 0);
    assert_int_equal(ibx_shmq_capacity(a), 8192);             /* rounded up */
    assert_true(ibx_shmq_is_multi_producer(a));
    assert_int_equal(ibx_shmq_create(name, 4096, 0, 0600, &d), -EEXIST);
    assert_int_equal(ibx_shmq_open(name, &b), 0);
    assert_int_equal(ibx_shmq_capacity(b), 8192);
    assert_true(ibx_shmq_is_multi_producer(b));
    assert_int_equal(ibx_shmq_attach(a, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(ibx_shmq_attach(b, IBX_SHMQ_CONSUMER), 0);
    assert_int_equal(ibx_shmq_send(a, "named", 5, 0), 0);
    char buf[8];
    size_t n;
    assert_int_equal(ibx_shmq_recv(b, buf, sizeof buf, &n, 0), 0);
    assert_int_equal(n, 5);
    assert_int_equal(ibx_shmq_unlink(name), 0);
    assert_int_equal(ibx_shmq_open(name, &d), -ENOENT);
    assert_int_equal(ibx_shmq_unlink(name), -ENOENT);
    /* the mappings survive the name */
    assert_int_equal(ibx_shmq_send(a, "after", 5, 0), 0);
    assert_int_equal(ibx_shmq_recv(b, buf, sizeof buf, &n, 0), 0);
    assert_memory_equal(buf, "after", 5);
    ibx_shmq_close(a);
    ibx_shmq_close(b);
}

/* Objects that are not queues are refused, never mapped blindly. */
static void test_open_rejects_garbage(void **state)
{
    char name[64];
    snprintf(name, sizeof name, "/ipcbox-test-junk-%d", (int)getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    ibx_shmq *q;
    assert_int_equal(ibx_shmq_open(name, &q), -EAGAIN);       /* empty: creator mid-way */
    assert_int_equal(ftruncate(fd, 100), 0);
    assert_int_equal(ibx_shmq_open(name, &q), -EPROTO);       /* too small */
    assert_int_equal(ftruncate(fd, 1 << 16), 0);
    assert_int_equal(ibx_shmq_open(name, &q), -EAGAIN);       /* no magic yet */
    unsigned char junk[256];
    memset(junk, 0x5a, sizeof junk);
    assert_int_equal(pwrite(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
    assert_int_equal(ibx_shmq_open(name, &q), -EPROTO);
    /* a real queue with a tampered capacity */
    ibx_shmq *real;
    assert_int_equal(ibx_shmq_create(NULL, 4096, 0, 0600, &real), 0);
    int rfd = ibx_shmq_fd(real);
    uint64_t cap;
    assert_int_equal(pread(rfd, &cap, 8, 16), 8);
    assert_int_equal(cap, 4096);
    cap = 4095;
    assert_int_equal(pwrite(rfd, &cap, 8, 16), 8);
    assert_int_equal(ibx_shmq_from_fd(rfd, &q), -EPROTO);
    ibx_shmq_close(real);
    close(fd);
    shm_unlink(name);
    assert_int_equal(ibx_shmq_from_fd(-1, &q), -EBADF);
}

/* The send-side copy: every size and alignment around the point where it
 * switches to non-temporal stores copies exactly, and nothing beyond. */
static void test_copy(void **state)
{
    size_t max = (256u << 10) + 200;
    unsigned char *src = malloc(max + 64), *dst = malloc(max + 128);
    fill(src, max + 64, 3);
    const size_t sizes[] = {0, 1, 63, 64, 4096, (256u << 10) - 1, 256u << 10,
                            (256u << 10) + 1, (256u << 10) + 77};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t da = 0; da < 16; da += 5)
            for (size_t sa = 0; sa < 16; sa += 7) {
                size_t n = sizes[i];
                memset(dst, 0xee, max + 128);
                ibx_shmq_copy(dst + da, src + sa, n);
                assert_memory_equal(dst + da, src + sa, n);
                for (size_t k = 0; k < da; k++)
                    assert_int_equal(dst[k], 0xee);
                for (size_t k = da + n; k < da + n + 32; k++)
                    assert_int_equal(dst[k], 0xee);
            }
    free(src);
    free(dst);
}

/* A child forked while both roles are attached frees its copy without
 * detaching: the parent's producer and consumer go on as before. */
static void test_free_forked(void **state)
{
    ibx_shmq *c, *p = pair(8192, 0, &c);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ibx_shmq_free_forked(p);
        ibx_shmq_free_forked(c);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unsigned char out[16];
    size_t n;
    assert_int_equal(ibx_shmq_try_send(p, "still", 5), 0);
    assert_int_equal(ibx_shmq_try_recv(c, out, sizeof out, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(ibx_shmq_try_recv(c, out, sizeof out, &n), -EAGAIN);   /* not -EPIPE */
    ibx_shmq_free_forked(NULL);
    ibx_shmq_close(p);
    ibx_shmq_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_order),
        cmocka_unit_test(test_wraparound_random_sizes),
        cmocka_unit_test(test_full_timeout_and_sizes),
        cmocka_unit_test(test_zero_copy),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_consumer_closed),
        cmocka_unit_test(test_named),
        cmocka_unit_test(test_open_rejects_garbage),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_free_forked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
