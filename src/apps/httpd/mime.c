/* Content-Type by file extension: a built-in table of the common web
 * types, overlaid by /etc/mime.types when it can be read. Lookups are a
 * binary search over a sorted array; the table is read-only once loaded
 * and shared by every worker. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"

struct mime_ent {
    char *ext;
    char *type;
};

struct mime_table {
    struct mime_ent *e;
    size_t n, cap;
};

static const char *const builtin[][2] = {
    {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},   {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},         {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},           {"svg", "image/svg+xml"},
    {"png", "image/png"},                 {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},               {"gif", "image/gif"},
    {"webp", "image/webp"},               {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},  {"bmp", "image/bmp"},
    {"woff", "font/woff"},                {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},                  {"otf", "font/otf"},
    {"pdf", "application/pdf"},           {"zip", "application/zip"},
    {"gz", "application/gzip"},           {"tar", "application/x-tar"},
    {"xz", "application/x-xz"},           {"zst", "application/zstd"},
    {"wasm", "application/wasm"},         {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},                 {"wav", "audio/wav"},
    {"mp4", "video/mp4"},                 {"webm", "video/webm"},
    {"c", "text/plain; charset=utf-8"},   {"h", "text/plain; charset=utf-8"},
    {"sh", "text/plain; charset=utf-8"},  {"py", "text/plain; charset=utf-8"},
};

static int cmp(const void *a, const void *b)
{
    return strcasecmp(((const struct mime_ent *)a)->ext,
                      ((const struct mime_ent *)b)->ext);
}

/* Add or replace ext -> type. */
static int add(struct mime_table *t, const char *ext, const char *type)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->e[i].ext, ext) == 0)
            return 0;   /* the first definition wins (built-ins first) */
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct mime_ent *e = realloc(t->e, cap * sizeof *e);
        if (!e)
            return -1;
        t->e = e;
        t->cap = cap;
    }
    t->e[t->n].ext = strdup(ext);
    t->e[t->n].type = strdup(type);
    if (!t->e[t->n].ext || !t->e[t->n].type) {
        free(t->e[t->n].ext);
        free(t->e[t->n].type);
        return -1;
    }
    t->n++;
    return 0;
}

struct mime_table *mime_load(const char *path)
{
    struct mime_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (add(t, builtin[i][0], builtin[i][1]) < 0)
            goto fail;
    FILE *f = fopen(path ? path : "/etc/mime.types", "re");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            char *save, *type = strtok_r(line, " \t\r\n", &save);
            if (!type || type[0] == '#' || !strchr(type, '/'))
                continue;
            /* text types get a charset, as browsers otherwise guess */
            char full[256];
            if (strncmp(type, "text/", 5) == 0)
                snprintf(full, sizeof full, "%s; charset=utf-8", type);
            else
                snprintf(full, sizeof full, "%s", type);
            for (char *ext; (ext = strtok_r(NULL, " \t\r\n", &save));)
                if (add(t, ext, full) < 0) {
                    fclose(f);
                    goto fail;
                }
        }
        fclose(f);
    }
    qsort(t->e, t->n, sizeof *t->e, cmp);
    return t;
fail:
    mime_free(t);
    return NULL;
}

void mime_free(struct mime_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->e[i].ext);
        free(t->e[i].type);
    }
    free(t->e);
    free(t);
}

const char *mime_lookup(const struct mime_table *t, const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1])
        return "application/octet-stream";
    struct mime_ent key = {.ext = (char *)(dot + 1)};
    const struct mime_ent *e = bsearch(&key, t->e, t->n, sizeof *t->e, cmp);
    return e ? e->type : "application/octet-stream";
}
