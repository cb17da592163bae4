/* Shared-memory queue across processes: fd passing, blocking wake-ups,
 * multiple producers, and peers that die. Every wait is bounded by alarm()
 * so a regression fails instead of hanging. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/fdpass.h"
#include "ipcbox/shmq.h"

struct msg {
    uint32_t producer;
    uint32_t seq;
    unsigned char body[120];
};

static size_t msg_len(uint32_t seq)
{
    return offsetof(struct msg, body) + seq % 121;
}

static void msg_fill(struct msg *m, uint32_t producer, uint32_t seq)
{
    m->producer = producer;
    m->seq = seq;
    for (size_t i = 0; i < sizeof m->body; i++)
        m->body[i] = (unsigned char)(producer * 31 + seq + i);
}

static void msg_check(const struct msg *m, size_t n, uint32_t producer, uint32_t seq)
{
    struct msg want;
    msg_fill(&want, producer, seq);
    assert_int_equal(n, msg_len(seq));
    assert_memory_equal(m, &want, n);
}

static int reap(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

/* Child: take the queue fd from the socket, produce count messages. */
static void child_producer_fdpass(int sock, uint32_t count)
{
    int fd;
    size_t nfd;
    char tag;
    if (ibx_fdpass_recv(sock, &tag, 1, &fd, 1, &nfd) != 1 || nfd != 1)
        _exit(10);
    ibx_shmq *q;
    if (ibx_shmq_from_fd(fd, &q) < 0)
        _exit(11);
    close(fd);
    if (ibx_shmq_attach(q, IBX_SHMQ_PRODUCER) < 0)
        _exit(12);
    ibx_shmq_set_spin(q, 0);    /* exercise the futex path */
    struct msg m;
    for (uint32_t i = 0; i < count; i++) {
        msg_fill(&m, 1, i);
        if (ibx_shmq_send(q, &m, msg_len(i), -1) < 0)
            _exit(13);
    }
    ibx_shmq_close(q);
    _exit(0);
}

static void test_fdpass_memfd_queue(void **state)
{
    alarm(60);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    const uint32_t count = 20000;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        child_producer_fdpass(sv[1], count);
    }
    close(sv[1]);
    ibx_shmq *q;
    assert_int_equal(ibx_shmq_create(NULL, 4096, 0, 0600, &q), 0);
    int fd = ibx_shmq_fd(q);
    assert_int_equal(ibx_fdpass_send(sv[0], "q", 1, &fd, 1), 1);
    assert_int_equal(ibx_shmq_attach(q, IBX_SHMQ_CONSUMER), 0);
    ibx_shmq_set_spin(q, 0);
    struct msg m;
    size_t n;
    for (uint32_t i = 0; i < count; i++) {
        assert_int_equal(ibx_shmq_recv(q, &m, sizeof m, &n, -1), 0);
        msg_check(&m, n, 1, i);
    }
    assert_int_equal(ibx_shmq_recv(q, &m, sizeof m, &n, -1), -EPIPE);
    assert_int_equal(reap(pid), 0);
    ibx_shmq_close(q);
    close(sv[0]);
}

static void test_fdpass_limits(void **state)
{
    int sv[2], fds[3], got[2];
    size_t n;
    char b[4];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    for (int i = 0; i < 3; i++)
        fds[i] = sv[0];
    assert_int_equal(ibx_fdpass_send(sv[0], "", 0, fds, 1), -EINVAL);
    assert_int_equal(ibx_fdpass_send(sv[0], "abc", 3, fds, 3), 3);
    /* three descriptors do not fit in two: none is leaked */
    assert_int_equal(ibx_fdpass_recv(sv[1], b, sizeof b, got, 2, &n), -EMSGSIZE);
    assert_int_equal(got[0], -1);
    assert_int_equal(ibx_fdpass_send(sv[0], "de", 2, fds, 2), 2);
    assert_int_equal(ibx_fdpass_recv(sv[1], b, sizeof b, got, 2, &n), 2);
    assert_int_equal(n, 2);
    assert_true(got[0] > 2 && got[1] > 2 && got[0] != got[1]);
    close(got[0]);
    close(got[1]);
    assert_int_equal(ibx_fdpass_send(sv[0], "z", 1, NULL, 0), 1);
    assert_int_equal(ibx_fdpass_recv(sv[1], b, sizeof b, got, 2, &n), 1);
    assert_int_equal(n, 0);
    close(sv[0]);
    assert_int_equal(ibx_fdpass_recv(sv[1], b, sizeof b, got, 2, &n), 0);  /* EOF */
    close(sv[1]);
}

/* A producer that exits without detaching: its messages arrive, then the
 * consumer is told, instead of waiting for ever. */
static void test_producer_dies(void **state)
{
    alarm(30);
    ibx_shmq *q;
    assert_int_equal(ibx_shmq_create(NULL, 4096, 0, 0600, &q), 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct msg m;
        if (ibx_shmq_attach(q, IBX_SHMQ_PRODUCER) < 0)
            _exit(1);
        for (uint32_t i = 0; i < 3; i++) {
            msg_fill(&m, 2, i);
            if (ibx_shmq_send(q, &m, msg_len(i), -1) < 0)
                _exit(2);
        }
        _exit(0);      /* no ibx_shmq_close */
    }
    assert_int_equal(ibx_shmq_attach(q, IBX_SHMQ_CONSUMER), 0);
    ibx_shmq_set_spin(q, 0);
    struct msg m;
    size_t n;
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(ibx_shmq_recv(q, &m, sizeof m, &n, -1), 0);
        msg_check(&m, n, 2, i);
    }
    assert_int_equal(ibx_shmq_recv(q, &m, sizeof m, &n, -1), -EOWNERDEAD);
    assert_int_equal(ibx_shmq_try_recv(q, &m, sizeof m, &n), -EOWNERDEAD);
    assert_int_equal(reap(pid), 0);
    ibx_shmq_close(q);
}

/* A consumer killed by SIGKILL: the blocked producer is told. */
static void test_consumer_killed(void **state)
{
    alarm(30);
    ibx_shmq *q;
    assert_int_equal(ibx_shmq_create(NULL, 4096, 0, 0600, &q), 0);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (ibx_shmq_attach(q, IBX_SHMQ_CONSUMER) < 0)
            _exit(1);
        if (write(ready[1], "r", 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(ibx_shmq_attach(q, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int st = reap(pid);
    assert_true(WIFSIGNALED(st));
    struct msg m;
    msg_fill(&m, 3, 0);
    int r;
    unsigned sent = 0;
    while ((r = ibx_shmq_send(q, &m, sizeof m, -1)) == 0)
        assert_true(++sent < 4096 / 8);   /* the ring fills long before */
    assert_int_equal(r, -EOWNERDEAD);
    ibx_shmq_close(q);
    close(ready[0]);
    close(ready[1]);
}

/* Four producer processes into one consumer: per-producer order holds,
 * nothing is lost or duplicated, end of stream once all detached. */
static void test_multi_producer(void **state)
{
    alarm(60);
    enum { P = 4, N = 5000 };
    ibx_shmq *q;
    assert_int_equal(ibx_shmq_create(NULL, 8192, IBX_SHMQ_MULTI_PRODUCER, 0600, &q), 0);
    assert_int_equal(ibx_shmq_attach(q, IBX_SHMQ_CONSUMER), 0);
    pid_t pids[P];
    for (uint32_t p = 0; p < P; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            /* the inherited handle is the parent's consumer: map afresh */
            struct msg m;
            ibx_shmq *mine;
            if (ibx_shmq_from_fd(ibx_shmq_fd(q), &mine) < 0 ||
                ibx_shmq_attach(mine, IBX_SHMQ_PRODUCER) < 0)
                _exit(1);
            for (uint32_t i = 0; i < N; i++) {
                msg_fill(&m, 10 + p, i);
                if (ibx_shmq_send(mine, &m, msg_len(i), -1) < 0)
                    _exit(2);
            }
            ibx_shmq_close(mine);
            _exit(0);
        }
    }
    uint32_t next[P] = {0};
    struct msg m;
    size_t n;
    for (unsigned total = 0; total < P * N; total++) {
        assert_int_equal(ibx_shmq_recv(q, &m, sizeof m, &n, -1), 0);
        assert_true(m.producer >= 10 && m.producer < 10 + P);
        uint32_t p = m.producer - 10;
        msg_check(&m, n, m.producer, next[p]);
        next[p]++;
    }
    for (unsigned p = 0; p < P; p++)
        assert_int_equal(reap(pids[p]), 0);
    assert_int_equal(ibx_shmq_recv(q, &m, sizeof m, &n, -1), -EPIPE);
    ibx_shmq_close(q);
}

/* A producer dies between reserve and commit, holding the producer lock:
 * the next producer recovers the lock, the half-written message never
 * appears, and the consumer learns of the death at the end. */
static void test_multi_producer_dies_holding_lock(void **state)
{
    alarm(30);
    ibx_shmq *q;
    assert_int_equal(ibx_shmq_create(NULL, 4096, IBX_SHMQ_MULTI_PRODUCER, 0600, &q), 0);
    pid_t pid = fork();
    if (pid == 0) {
        void *w;
        if (ibx_shmq_attach(q, IBX_SHMQ_PRODUCER) < 0 ||
            ibx_shmq_reserve(q, 100, &w, -1) < 0)
            _exit(1);
        memset(w, 'X', 100);
        _exit(0);
    }
    assert_int_equal(reap(pid), 0);
    ibx_shmq *p;
    assert_int_equal(ibx_shmq_from_fd(ibx_shmq_fd(q), &p), 0);
    assert_int_equal(ibx_shmq_attach(p, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(ibx_shmq_attach(q, IBX_SHMQ_CONSUMER), 0);
    assert_int_equal(ibx_shmq_send(p, "alive", 5, 1000), 0);
    char buf[128];
    size_t n;
    assert_int_equal(ibx_shmq_recv(q, buf, sizeof buf, &n, 0), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "alive", 5);
    assert_int_equal(ibx_shmq_try_recv(q, buf, sizeof buf, &n), -EAGAIN);
    ibx_shmq_close(p);
    assert_int_equal(ibx_shmq_recv(q, buf, sizeof buf, &n, -1), -EOWNERDEAD);
    ibx_shmq_close(q);
}

/* Multi-producer: while one producer holds a reservation, another's try
 * fails with -EAGAIN and a timed send with -ETIMEDOUT; once it commits,
 * both messages arrive. */
static void test_multi_producer_lock_timeouts(void **state)
{
    alarm(30);
    ibx_shmq *q;
    assert_int_equal(ibx_shmq_create(NULL, 4096, IBX_SHMQ_MULTI_PRODUCER, 0600, &q), 0);
    int held[2], go[2];
    assert_int_equal(pipe(held), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    if (pid == 0) {
        void *w;
        char c;
        if (ibx_shmq_attach(q, IBX_SHMQ_PRODUCER) < 0 ||
            ibx_shmq_reserve(q, 5, &w, -1) < 0)
            _exit(1);
        memcpy(w, "first", 5);
        if (write(held[1], "h", 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(2);
        if (ibx_shmq_commit(q, 5) < 0)
            _exit(3);
        ibx_shmq_close(q);
        _exit(0);
    }
    char c;
    assert_int_equal(read(held[0], &c, 1), 1);
    ibx_shmq *p;
    assert_int_equal(ibx_shmq_from_fd(ibx_shmq_fd(q), &p), 0);
    assert_int_equal(ibx_shmq_attach(p, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(ibx_shmq_attach(q, IBX_SHMQ_CONSUMER), 0);
    assert_int_equal(ibx_shmq_try_send(p, "second", 6), -EAGAIN);
    assert_int_equal(ibx_shmq_send(p, "second", 6, 50), -ETIMEDOUT);
    assert_int_equal(write(go[1], "g", 1), 1);
    assert_int_equal(ibx_shmq_send(p, "second", 6, 10000), 0);
    char buf[16];
    size_t n;
    assert_int_equal(ibx_shmq_recv(q, buf, sizeof buf, &n, 10000), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "first", 5);
    assert_int_equal(ibx_shmq_recv(q, buf, sizeof buf, &n, 10000), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "second", 6);
    assert_int_equal(reap(pid), 0);
    ibx_shmq_close(p);
    assert_int_equal(ibx_shmq_recv(q, buf, sizeof buf, &n, -1), -EPIPE);
    ibx_shmq_close(q);
    for (int i = 0; i < 2; i++) {
        close(held[i]);
        close(go[i]);
    }
}

/* Ping-pong with no spinning: every receive sleeps on the futex, so every
 * message depends on a wake-up being issued. */
static void test_futex_pingpong(void **state)
{
    alarm(60);
    ibx_shmq *ab, *ba;
    assert_int_equal(ibx_shmq_create(NULL, 4096, 0, 0600, &ab), 0);
    assert_int_equal(ibx_shmq_create(NULL, 4096, 0, 0600, &ba), 0);
    const uint32_t rounds = 2000;
    pid_t pid = fork();
    if (pid == 0) {
        uint32_t v;
        size_t n;
        if (ibx_shmq_attach(ab, IBX_SHMQ_CONSUMER) < 0 ||
            ibx_shmq_attach(ba, IBX_SHMQ_PRODUCER) < 0)
            _exit(1);
        ibx_shmq_set_spin(ab, 0);
        for (uint32_t i = 0; i < rounds; i++) {
            if (ibx_shmq_recv(ab, &v, sizeof v, &n, 10000) < 0 || v != i)
                _exit(2);
            v = ~v;
            if (ibx_shmq_send(ba, &v, sizeof v, 10000) < 0)
                _exit(3);
        }
        ibx_shmq_close(ab);
        ibx_shmq_close(ba);
        _exit(0);
    }
    assert_int_equal(ibx_shmq_attach(ab, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(ibx_shmq_attach(ba, IBX_SHMQ_CONSUMER), 0);
    ibx_shmq_set_spin(ba, 0);
    for (uint32_t i = 0; i < rounds; i++) {
        uint32_t v = i;
        size_t n;
        assert_int_equal(ibx_shmq_send(ab, &v, sizeof v, 10000), 0);
        assert_int_equal(ibx_shmq_recv(ba, &v, sizeof v, &n, 10000), 0);
        assert_int_equal(v, ~i);
    }
    assert_int_equal(reap(pid), 0);
    ibx_shmq_close(ab);
    ibx_shmq_close(ba);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fdpass_memfd_queue),
        cmocka_unit_test(test_fdpass_limits),
        cmocka_unit_test(test_producer_dies),
        cmocka_unit_test(test_consumer_killed),
        cmocka_unit_test(test_multi_producer),
        cmocka_unit_test(test_multi_producer_dies_holding_lock),
        cmocka_unit_test(test_multi_producer_lock_timeouts),
        cmocka_unit_test(test_futex_pingpong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
