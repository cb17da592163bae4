/* The arguments of `ipcbox pool` (see input.h). */
#include "pool/input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct pool_source *add(struct pool_input *in)
{
    struct pool_source *s = realloc(in->src, (in->nsrc + 1) * sizeof *s);
    if (!s)
        return NULL;
    in->src = s;
    s = &in->src[in->nsrc++];
    memset(s, 0, sizeof *s);
    return s;
}

static int push(struct pool_source *s, char *v, size_t len)
{
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 16;
        char **nv = realloc(s->v, c * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        s->v = nv;
        size_t *nl = realloc(s->vlen, c * sizeof *nl);
        if (!nl)
            return -ENOMEM;
        s->vlen = nl;
        s->cap = c;
    }
    s->v[s->n] = v;
    s->vlen[s->n++] = len;
    return 0;
}

int pool_input_add_list(struct pool_input *in, char **v, size_t n)
{
    struct pool_source *s = add(in);
    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (push(s, v[i], strlen(v[i])))
            return -ENOMEM;
    s->done = true;
    return 0;
}

int pool_input_add_file(struct pool_input *in, const char *path)
{
    struct pool_source *s = add(in);
    if (!s)
        return -ENOMEM;
    s->path = path;
    s->owned = true;
    return 0;
}

/* One record of s's file into *buf (without its separator). Returns its
 * length, -1 at the end, or -2 on a read error (errno). */
static long record(struct pool_input *in, struct pool_source *s, char **buf, size_t *cap)
{
    errno = 0;
    ssize_t n = getdelim(buf, cap, in->sep, s->f);
    if (n < 0)
        return ferror(s->f) || errno == ENOMEM ? -2 : -1;
    if (n > 0 && (*buf)[n - 1] == in->sep)
        n--;
    return (long)n;
}

static int read_whole(struct pool_input *in, struct pool_source *s)
{
    char *line = NULL;
    size_t cap = 0;
    long n;
    while ((n = record(in, s, &line, &cap)) >= 0) {
        char *v = malloc((size_t)n + 1);
        if (!v || push(s, v, (size_t)n)) {
            free(v);
            free(line);
            return -ENOMEM;
        }
        memcpy(v, line, (size_t)n);
        v[n] = '\0';
    }
    free(line);
    if (n == -2)
        return errno ? -errno : -EIO;
    s->done = true;
    return 0;
}

int pool_input_open(struct pool_input *in, bool whole, const char **bad)
{
    for (size_t i = 0; i < in->nsrc; i++) {
        struct pool_source *s = &in->src[i];
        if (!s->path)
            continue;
        s->f = strcmp(s->path, "-") ? fopen(s->path, "re") : stdin;
        if (!s->f) {
            *bad = s->path;
            return -errno;
        }
        if (i > 0 || whole) {
            int r = read_whole(in, s);
            if (r) {
                *bad = s->path;
                return r;
            }
        }
    }
    in->stream = in->nsrc && !in->src[0].done;
    in->idx = calloc(in->nsrc ? in->nsrc : 1, sizeof *in->idx);
    in->cur = calloc(in->nsrc ? in->nsrc : 1, sizeof *in->cur);
    in->curlen = calloc(in->nsrc ? in->nsrc : 1, sizeof *in->curlen);
    return in->idx && in->cur && in->curlen ? 0 : -ENOMEM;
}

uint64_t pool_input_total(const struct pool_input *in)
{
    uint64_t t = in->nsrc ? 1 : 0;
    for (size_t i = 0; i < in->nsrc; i++)
        t *= in->src[i].n;
    return t;
}

/* Read the streamed first source's next value. 1, 0 at the end, -errno. */
static int next_first(struct pool_input *in)
{
    long n = record(in, &in->src[0], &in->first, &in->firstcap);
    if (n == -1)
        return 0;
    if (n == -2)
        return errno ? -errno : -EIO;
    in->firstlen = (size_t)n;
    return 1;
}

int pool_input_next(struct pool_input *in)
{
    if (in->ended || !in->nsrc)
        return 0;
    size_t k0 = in->stream ? 1 : 0;
    for (size_t k = k0; k < in->nsrc; k++)
        if (!in->src[k].n) {
            in->ended = true;
            return 0;
        }
    if (!in->started) {
        in->started = true;
        if (in->stream) {
            int r = next_first(in);
            if (r <= 0) {
                in->ended = true;
                return r;
            }
        }
    } else {
        /* odometer: the last source turns fastest */
        size_t k = in->nsrc;
        for (;;) {
            if (k == k0) {
                if (!in->stream) {
                    in->ended = true;
                    return 0;
                }
                int r = next_first(in);
                if (r <= 0) {
                    in->ended = true;
                    return r;
                }
                break;
            }
            k--;
            if (++in->idx[k] < in->src[k].n)
                break;
            in->idx[k] = 0;
        }
    }
    for (size_t k = 0; k < in->nsrc; k++) {
        if (k == 0 && in->stream) {
            in->cur[0] = in->first;
            in->curlen[0] = in->firstlen;
        } else {
            in->cur[k] = in->src[k].v[in->idx[k]];
            in->curlen[k] = in->src[k].vlen[in->idx[k]];
        }
    }
    return 1;
}

void pool_input_free(struct pool_input *in)
{
    for (size_t i = 0; i < in->nsrc; i++) {
        struct pool_source *s = &in->src[i];
        if (s->f && s->f != stdin)
            fclose(s->f);
        if (s->owned)
            for (size_t k = 0; k < s->n; k++)
                free(s->v[k]);
        free(s->v);
        free(s->vlen);
    }
    free(in->src);
    free(in->idx);
    free(in->cur);
    free(in->curlen);
    free(in->first);
    memset(in, 0, sizeof *in);
}
