/* The per-worker open-file/stat cache: decoded path -> open fd, stat data,
 * prebuilt header lines (Content-Type, Last-Modified, ETag), and for small
 * files the contents. Bounded (LRU eviction) and validated at most once a
 * second per entry by reopening the path under the root and comparing
 * device, inode, size and modification time, so a replaced, truncated or
 * edited file is noticed within a second without a syscall per request.
 * Failed lookups (404, 403) are cached the same way. A worker's cache is
 * touched only by that worker's thread: no locks.
 *
 * Descriptors: a small file's contents are in memory, so its entry keeps
 * no descriptor; only large files (sent from the fd) keep one open. The
 * descriptors every cache of the process keeps open count against one
 * budget, half the RLIMIT_NOFILE soft limit less a reserve (the other
 * half is for connections, CGI pipes and bodies in flight). A cache over
 * the budget closes its least recently used large files; one that meets
 * EMFILE/ENFILE anyway (other caches, connections) closes all it can and
 * retries once, and a lookup that still fails is not cached, so the
 * server never wedges on a full descriptor table. The two most recently
 * used entries are never evicted: a request holds at most two (a file
 * and its .gz sibling). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "httpd.h"

/* Descriptors kept open by every cache of the process. */
static atomic_long cache_fds;
/* Second of the last "budget hit" or "limit reached" log line: at most
 * one a second for the process (thread model: a cache per connection). */
static _Atomic int64_t cache_warned = -1;

/* True at most once a second (now) for the whole process. */
static bool warn_now(int64_t now)
{
    int64_t last = atomic_load_explicit(&cache_warned, memory_order_relaxed);
    return last != now &&
           atomic_compare_exchange_strong(&cache_warned, &last, now);
}

struct hcache {
    const struct httpd_cfg *cfg;
    size_t max, n, nbuckets;
    long fd_budget;      /* process-wide cap on cache_fds */
    size_t nfds;         /* descriptors this cache holds */
    size_t max_fds;      /* and at most (a connection's own cache: 2) */
    struct centry **buckets;
    struct centry lru;   /* sentinel: lru.lnext is the most recent */
};

/* The process-wide cap on descriptors the caches keep open: half the
 * RLIMIT_NOFILE soft limit less 16 (at least 4), or --cache-fds if less. */
static long cache_fd_budget(const struct httpd_cfg *cfg)
{
    struct rlimit rl;
    long b = 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t lim = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20)
                         ? (1u << 20) : rl.rlim_cur;
        b = (long)lim / 2 - 16;
    }
    if (cfg->cache_fds && (long)cfg->cache_fds < b)
        b = (long)cfg->cache_fds;
    return b < 4 ? 4 : b;
}

static uint64_t hash_path(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

struct hcache *cache_new(const struct httpd_cfg *cfg, size_t max_entries)
{
    struct hcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = cfg;
    /* two at least: a request holds two entries (see above) */
    c->max = max_entries > 2 ? max_entries : 2;
    c->fd_budget = cache_fd_budget(cfg);
    /* a connection's own cache (thread, fork models) sits beside the
     * connection's socket, loop and spare descriptors: keep only what the
     * request in hand needs */
    c->max_fds = cfg->per_conn_worker ? 2 : SIZE_MAX;
    c->nbuckets = 64;
    while (c->nbuckets < c->max)
        c->nbuckets *= 2;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->lru.lnext = c->lru.lprev = &c->lru;
    return c;
}

static void entry_close_fd(struct hcache *c, struct centry *e)
{
    if (e->fd < 0)
        return;
    close(e->fd);
    e->fd = -1;
    c->nfds--;
    atomic_fetch_sub_explicit(&cache_fds, 1, memory_order_relaxed);
}

/* e takes fd over (counted against the budget). */
static void entry_keep_fd(struct hcache *c, struct centry *e, int fd)
{
    e->fd = fd;
    c->nfds++;
    atomic_fetch_add_explicit(&cache_fds, 1, memory_order_relaxed);
}

static void entry_clear(struct hcache *c, struct centry *e)
{
    entry_close_fd(c, e);
    free(e->body);
    e->body = NULL;
    free(e->fields);
    e->fields = NULL;
    e->fields_len = 0;
}

static void lru_unlink(struct centry *e)
{
    e->lprev->lnext = e->lnext;
    e->lnext->lprev = e->lprev;
}

static void lru_front(struct hcache *c, struct centry *e)
{
    e->lnext = c->lru.lnext;
    e->lprev = &c->lru;
    c->lru.lnext->lprev = e;
    c->lru.lnext = e;
}

static void entry_remove(struct hcache *c, struct centry *e)
{
    struct centry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(e);
    entry_clear(c, e);
    free(e->path);
    free(e);
    c->n--;
}

void cache_free(struct hcache *c)
{
    if (!c)
        return;
    while (c->lru.lnext != &c->lru)
        entry_remove(c, c->lru.lnext);
    free(c->buckets);
    free(c);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_mode == b->st_mode;
}

/* Read a small file whole; false if it changed under us. */
static bool read_body(struct centry *e)
{
    size_t size = (size_t)e->st.st_size;
    e->body = malloc(size ? size : 1);
    if (!e->body)
        return false;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(e->fd, e->body + got, size - got, (off_t)got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != size) {
        free(e->body);
        e->body = NULL;
        return false;
    }
    return true;
}

/* Fill e from an open fd (taken over) and its stat. */
static void entry_fill(struct hcache *c, struct centry *e, int fd,
                       const struct stat *st)
{
    entry_clear(c, e);
    e->st = *st;
    e->err = 0;
    if (S_ISDIR(st->st_mode)) {
        e->kind = CE_DIR;
        close(fd);
        return;
    }
    if (!S_ISREG(st->st_mode)) {
        e->kind = CE_OTHER;
        e->err = EACCES;
        close(fd);
        return;
    }
    e->kind = CE_FILE;
    e->fd = fd;
    if (st->st_size <= HTTPD_SMALL_FILE && read_body(e)) {
        close(fd);   /* served from memory: no descriptor kept */
        e->fd = -1;
    } else {
        e->fd = -1;
        entry_keep_fd(c, e, fd);
    }
    e->mime = mime_lookup(c->cfg->mime, e->path);
    e->etag_len = (size_t)snprintf(e->etag, sizeof e->etag, "\"%llx-%llx\"",
                                   (unsigned long long)st->st_mtim.tv_sec,
                                   (unsigned long long)st->st_size);
    ibx_http_date_format(st->st_mtim.tv_sec, e->lastmod);
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "Content-Type: %s\r\nLast-Modified: %s\r\nETag: %s\r\n"
                     "Accept-Ranges: bytes\r\n",
                     e->mime, e->lastmod, e->etag);
    e->fields = malloc((size_t)n + 1);
    if (e->fields) {
        memcpy(e->fields, buf, (size_t)n + 1);
        e->fields_len = (size_t)n;
    }
}

static void entry_fail(struct hcache *c, struct centry *e, int err)
{
    entry_clear(c, e);
    e->kind = CE_MISSING;
    e->err = err;
}

/* Evict least recently used entries that hold a descriptor, sparing the
 * two most recent: until the cache is within its own cap and the process
 * within the budget, or (all) every one. Returns how many were closed. */
static size_t shed_fds(struct hcache *c, bool all)
{
    size_t closed = 0;
    struct centry *spare1 = c->lru.lnext, *spare2 = spare1->lnext;
    struct centry *e = c->lru.lprev;
    while (e != &c->lru && c->nfds) {
        if (!all && c->nfds <= c->max_fds &&
            atomic_load_explicit(&cache_fds, memory_order_relaxed) <= c->fd_budget)
            break;
        struct centry *prev = e->lprev;
        if (e->fd >= 0 && e != spare1 && e != spare2) {
            entry_remove(c, e);
            closed++;
        }
        e = prev;
    }
    return closed;
}

/* Open e's path, making room on EMFILE/ENFILE (once). */
static int open_entry(struct hcache *c, struct centry *e, int64_t now)
{
    int fd = fs_open(c->cfg, e->path, O_RDONLY | O_NONBLOCK);
    if (fd != -EMFILE && fd != -ENFILE)
        return fd;
    size_t closed = shed_fds(c, true);
    if (warn_now(now)) {
        ibx_warn(c->cfg->log, "msg=\"descriptor limit reached, cached files closed\" "
                 "reason=%s closed=%zu still_cached=%ld", strerror(-fd), closed,
                 (long)atomic_load_explicit(&cache_fds, memory_order_relaxed));
    }
    return fs_open(c->cfg, e->path, O_RDONLY | O_NONBLOCK);
}

/* (Re)validate e against the file system. */
static void entry_check(struct hcache *c, struct centry *e, int64_t now)
{
    e->checked = now;
    int fd = open_entry(c, e, now);
    if (fd < 0) {
        entry_fail(c, e, -fd);
        if (fd == -EMFILE || fd == -ENFILE)
            e->checked = INT64_MIN;   /* not a fact about the file: retry */
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        entry_fail(c, e, err);
        return;
    }
    if (e->kind != CE_MISSING && same_file(&e->st, &st) &&
        (e->kind != CE_FILE || e->fields)) {
        close(fd);   /* unchanged: keep the open fd and the contents */
        return;
    }
    entry_fill(c, e, fd, &st);
    if (e->fd >= 0 && c->nfds > c->max_fds) {
        shed_fds(c, false);   /* a connection's own cache: not a budget hit */
    } else if (e->fd >= 0 &&
               atomic_load_explicit(&cache_fds, memory_order_relaxed) > c->fd_budget) {
        size_t closed = shed_fds(c, false);
        if (warn_now(now)) {
            ibx_info(c->cfg->log, "msg=\"open-file cache at its descriptor budget, "
                     "least recently used closed\" budget=%ld closed=%zu", c->fd_budget,
                     closed);
        }
    }
}

struct centry *cache_get(struct hcache *c, const char *path, int64_t now)
{
    uint64_t h = hash_path(path);
    struct centry **bucket = &c->buckets[h & (c->nbuckets - 1)];
    for (struct centry *e = *bucket; e; e = e->hnext) {
        if (e->hash == h && strcmp(e->path, path) == 0) {
            if (c->lru.lnext != e) {
                lru_unlink(e);
                lru_front(c, e);
            }
            if (e->checked != now)
                entry_check(c, e, now);
            return e;
        }
    }
    if (c->n >= c->max)
        entry_remove(c, c->lru.lprev);
    struct centry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->path = strdup(path);
    if (!e->path) {
        free(e);
        return NULL;
    }
    e->hash = h;
    e->fd = -1;
    e->kind = CE_MISSING;
    bucket = &c->buckets[h & (c->nbuckets - 1)];
    e->hnext = *bucket;
    *bucket = e;
    lru_front(c, e);
    c->n++;
    entry_check(c, e, now);
    return e;
}

int cache_dup_fd(struct hcache *c, const struct centry *e)
{
    int fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
        shed_fds(c, true);
        fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
    }
    return fd < 0 ? -errno : fd;
}

int cache_open(struct hcache *c, const char *path, int flags)
{
    int fd = fs_open(c->cfg, path, flags);
    if (fd == -EMFILE || fd == -ENFILE) {
        shed_fds(c, true);
        fd = fs_open(c->cfg, path, flags);
    }
    return fd;
}
