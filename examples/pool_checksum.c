/* Example: a parallel map over a directory with a process pool.
 *
 *   pool_checksum [-a sha256|xxh3] [-r ROUNDS] [-l] DIR...
 *
 * Every regular file under the DIRs (recursively, symbolic links not
 * followed) is checksummed with the library's hash (ipcbox/hash.h) three
 * ways: in this process, one file after the other; with a pool of one
 * worker; with a pool of two. Each pool run submits every path (the tag
 * is the file's index) and takes the results as they complete; the best
 * of ROUNDS (default 3) is timed, pool start-up excluded. The three sets
 * of digests must agree. Prints the times and the speed-up of two
 * workers over one (measured, for the reader; nothing is asserted about
 * it). -l also lists "DIGEST  PATH" lines, as sha256sum does.
 * Exit 0 when every digest agrees, 1 otherwise, 2 on bad usage.
 *
 * (As a test it checksums the source tree's src/, include/ and docs/,
 * never a build directory that may change meanwhile.) */
//example-args: @SRC@/src @SRC@/include @SRC@/docs
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/frame.h"
#include "ipcbox/hash.h"
#include "ipcbox/pool.h"

#define MAX_FILES 200000

struct digest {
    uint64_t size;
    uint8_t hash[IBX_FRAME_HASH_MAX];
};

/* Hash one file; 0 or -errno. */
static int hash_path(const char *path, int algo, struct digest *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct stat st;
    ibx_hash *h = NULL;
    int r = fstat(fd, &st) < 0 ? -errno : ibx_hash_new(&h, algo);
    if (r == 0)
        r = ibx_hash_file_range(h, fd, 0, (uint64_t)st.st_size);
    memset(d, 0, sizeof *d);
    if (r == 0 && ibx_hash_digest(h, d->hash) < 0)
        r = -EIO;
    d->size = (uint64_t)st.st_size;
    ibx_hash_free(h);
    close(fd);
    return r;
}

/* The pool's function, in a worker: the task is a path. */
static int hash_task(const void *task, size_t len, void *result, size_t cap,
                     size_t *rlen, void *arg)
{
    char path[PATH_MAX];
    if (len == 0 || len >= sizeof path || cap < sizeof(struct digest))
        return EINVAL;
    memcpy(path, task, len);
    path[len] = 0;
    struct digest d;
    int r = hash_path(path, *(const int *)arg, &d);
    memcpy(result, &d, sizeof d);
    *rlen = sizeof d;
    return r ? -r : 0;
}

/* The files, collected by nftw (which has no user pointer: a static). */
static struct {
    char **path;
    size_t n, cap;
    uint64_t bytes;
} files;

static int collect(const char *path, const struct stat *st, int type,
                   struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || !S_ISREG(st->st_mode))
        return 0;
    if (files.n == MAX_FILES)
        return 1;
    if (files.n == files.cap) {
        size_t cap = files.cap ? files.cap * 2 : 256;
        char **p = realloc(files.path, cap * sizeof *p);
        if (!p)
            return 1;
        files.path = p;
        files.cap = cap;
    }
    if (!(files.path[files.n] = strdup(path)))
        return 1;
    files.n++;
    files.bytes += (uint64_t)st->st_size;
    return 0;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Checksum every file through a pool of `workers`; best time of rounds.
 * Returns the seconds, or -1. */
static double run_pool(unsigned workers, int algo, unsigned rounds,
                       struct digest *out)
{
    struct ibx_pool_config cfg = {.fn = hash_task, .arg = &algo, .workers = workers,
                                  .max_task = PATH_MAX,
                                  .max_result = sizeof(struct digest),
                                  /* files vary in size: one per batch, so
                                   * that the workers share them evenly */
                                  .batch = 1};
    ibx_pool *p;
    int e = ibx_pool_new(&p, &cfg);
    if (e < 0) {
        fprintf(stderr, "pool_checksum: ibx_pool_new: %s\n", strerror(-e));
        return -1;
    }
    double best = -1;
    for (unsigned r = 0; r < rounds && e == 0; r++) {
        double t0 = now_s();
        for (size_t i = 0; i < files.n && e == 0; i++)
            e = ibx_pool_submit(p, files.path[i], strlen(files.path[i]), i);
        for (size_t i = 0; i < files.n && e == 0; i++) {
            struct ibx_pool_result res;
            struct digest d;
            e = ibx_pool_next(p, &res, &d, sizeof d, -1);
            if (e == 0 && res.status != IBX_POOL_OK) {
                fprintf(stderr, "pool_checksum: %s: %s\n", files.path[res.tag],
                        res.status == IBX_POOL_FAILED ? strerror(res.code) : "worker crashed");
                e = -EIO;
            }
            if (e == 0)
                out[res.tag] = d;
        }
        double t = now_s() - t0;
        if (best < 0 || t < best)
            best = t;
    }
    if (e < 0 && e != -EIO)
        fprintf(stderr, "pool_checksum: %s\n", strerror(-e));
    ibx_pool_close(p, IBX_POOL_DRAIN);
    return e < 0 ? -1 : best;
}

int main(int argc, char **argv)
{
    int algo = IBX_HASH_SHA256, c;
    unsigned rounds = 3;
    bool list = false;
    while ((c = getopt(argc, argv, "a:r:l")) != -1) {
        switch (c) {
        case 'a':
            algo = !strcmp(optarg, "xxh3") ? IBX_HASH_XXH3
                 : !strcmp(optarg, "sha256") ? IBX_HASH_SHA256 : -1;
            break;
        case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'l': list = true; break;
        default: algo = -1; break;
        }
    }
    if (algo < 0 || optind >= argc || rounds < 1 || rounds > 100) {
        fprintf(stderr, "usage: pool_checksum [-a sha256|xxh3] [-r ROUNDS] [-l] DIR...\n");
        return 2;
    }
    for (int i = optind; i < argc; i++)
        if (nftw(argv[i], collect, 32, FTW_PHYS) != 0) {
            fprintf(stderr, "pool_checksum: cannot walk %s\n", argv[i]);
            return 1;
        }
    if (files.n == 0) {
        fprintf(stderr, "pool_checksum: no files\n");
        return 1;
    }
    qsort(files.path, files.n, sizeof *files.path, cmp_path);
    struct digest *ref = calloc(files.n, sizeof *ref);
    struct digest *one = calloc(files.n, sizeof *one);
    struct digest *two = calloc(files.n, sizeof *two);
    if (!ref || !one || !two)
        return 1;
    double t_local = -1;
    for (unsigned r = 0; r < rounds; r++) {
        double t0 = now_s();
        for (size_t i = 0; i < files.n; i++)
            if (hash_path(files.path[i], algo, &ref[i]) < 0) {
                fprintf(stderr, "pool_checksum: %s: cannot hash\n", files.path[i]);
                return 1;
            }
        double t = now_s() - t0;
        if (t_local < 0 || t < t_local)
            t_local = t;
    }
    double t1 = run_pool(1, algo, rounds, one);
    double t2 = run_pool(2, algo, rounds, two);
    if (t1 < 0 || t2 < 0)
        return 1;
    size_t dlen = ibx_hash_algo_len(algo), bad = 0;
    for (size_t i = 0; i < files.n; i++) {
        bool same = !memcmp(&ref[i], &one[i], sizeof ref[i]) &&
                    !memcmp(&ref[i], &two[i], sizeof ref[i]);
        if (!same)
            fprintf(stderr, "pool_checksum: %s: digests differ\n", files.path[i]);
        bad += !same;
        if (list) {
            char hex[2 * IBX_FRAME_HASH_MAX + 1];
            printf("%s  %s\n", ibx_hash_hex(two[i].hash, dlen, hex), files.path[i]);
        }
    }
    printf("pool_checksum: %zu files, %.1f MB, %s: in-process %.3f s, 1 worker %.3f s, "
           "2 workers %.3f s: speed-up %.2fx (2 workers over 1)%s\n",
           files.n, files.bytes / 1e6, algo == IBX_HASH_SHA256 ? "sha256" : "xxh3",
           t_local, t1, t2, t1 / t2, bad ? ", DIGESTS DIFFER" : "");
    for (size_t i = 0; i < files.n; i++)
        free(files.path[i]);
    free(files.path);
    free(ref);
    free(one);
    free(two);
    return bad ? 1 : 0;
}
