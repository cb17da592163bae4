/* ipcbench: small helpers shared by the mechanisms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int fd_write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int fd_read_all(int fd, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -EPIPE;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int chan_tmpdir(struct chan *c, const char *base)
{
    if (!base)
        base = getenv("TMPDIR");
    if (!base || !*base || strlen(base) > 32)
        base = "/tmp";
    snprintf(c->tmpdir, sizeof c->tmpdir, "%s/ipcbench.XXXXXX", base);
    if (!mkdtemp(c->tmpdir)) {
        int e = errno;
        snprintf(c->why, sizeof c->why, "mkdtemp in %s: %s", base, strerror(e));
        c->tmpdir[0] = 0;
        return -e;
    }
    return 0;
}

void chan_tmpdir_remove(struct chan *c, const char *const *names, size_t n)
{
    if (!c->tmpdir[0])
        return;
    char path[128];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", c->tmpdir, names[i]);
        unlink(path);
    }
    rmdir(c->tmpdir);
    c->tmpdir[0] = 0;
}

void *shared_alloc(size_t n)
{
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void shared_free(void *p, size_t n)
{
    if (p)
        munmap(p, n ? n : 1);
}

int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t runq_wait_ns(void)
{
    /* "time on the CPU, time waiting on a run queue, timeslices" (ns) */
    FILE *f = fopen("/proc/self/schedstat", "re");
    unsigned long long run, wait;
    int n = f ? fscanf(f, "%llu %llu", &run, &wait) : 0;
    if (f)
        fclose(f);
    return n == 2 ? (int64_t)wait : -1;
}

void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
