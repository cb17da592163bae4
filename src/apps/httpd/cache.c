/* The per-worker open-file/stat cache: decoded path -> open fd, stat data,
 * prebuilt header lines (Content-Type, Last-Modified, ETag), and for small
 * files the contents. Bounded (LRU eviction) and validated at most once a
 * second per entry by reopening the path under the root and comparing
 * device, inode, size and modification time, so a replaced, truncated or
 * edited file is noticed within a second without a syscall per request.
 * Failed lookups (404, 403) are cached the same way. A worker's cache is
 * touched only by that worker's thread: no locks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"

struct hcache {
    const struct httpd_cfg *cfg;
    size_t max, n, nbuckets;
    struct centry **buckets;
    struct centry lru;   /* sentinel: lru.lnext is the most recent */
};

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
    c->max = max_entries ? max_entries : 1;
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

static void entry_clear(struct centry *e)
{
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
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
    entry_clear(e);
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
    entry_clear(e);
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
    if (st->st_size <= HTTPD_SMALL_FILE)
        (void)read_body(e);
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

static void entry_fail(struct centry *e, int err)
{
    entry_clear(e);
    e->kind = CE_MISSING;
    e->err = err;
}

/* (Re)validate e against the file system. */
static void entry_check(struct hcache *c, struct centry *e, int64_t now)
{
    e->checked = now;
    int fd = fs_open(c->cfg, e->path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        entry_fail(e, -fd);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        entry_fail(e, err);
        return;
    }
    if (e->kind != CE_MISSING && same_file(&e->st, &st) &&
        (e->kind != CE_FILE || e->fields)) {
        close(fd);   /* unchanged: keep the open fd and the contents */
        return;
    }
    entry_fill(c, e, fd, &st);
}

struct centry *cache_get(struct hcache *c, const char *path, int64_t now)
{
    uint64_t h = hash_path(path);
    struct centry **bucket = &c->buckets[h & (c->nbuckets - 1)];
    for (struct centry *e = *bucket; e; e = e->hnext) {
        if (e->hash == h && strcmp(e->path, path) == 0) {
            if (e->checked != now)
                entry_check(c, e, now);
            if (c->lru.lnext != e) {
                lru_unlink(e);
                lru_front(c, e);
            }
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
