/* The command template of `ipcbox pool` (see template.h). */
#include "template.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffers ---------------------------------------------------------- */

int tpl_buf_add(struct tpl_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n + 1) {
            if (cap > SIZE_MAX / 2)
                return -ENOMEM;
            cap *= 2;
        }
        char *q = realloc(b->p, cap);
        if (!q)
            return -ENOMEM;
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';   /* always a string, for the callers' ease */
    return 0;
}

void tpl_buf_free(struct tpl_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int add_c(struct tpl_buf *b, char c) { return tpl_buf_add(b, &c, 1); }

/* ---- values ----------------------------------------------------------- */

static bool plain_value_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '+' || c == '/';
}

int tpl_quote(const char *s, size_t n, struct tpl_buf *out)
{
    if (n == 0)
        return tpl_buf_add(out, "''", 2);
    size_t i;
    for (i = 0; i < n && plain_value_byte((unsigned char)s[i]); i++)
        ;
    if (i == n)
        return tpl_buf_add(out, s, n);
    /* 'a'"'"'b', without the empty '' a leading or trailing quote leaves */
    bool open = false;
    for (i = 0; i < n; i++) {
        if (s[i] == '\'') {
            if (open && add_c(out, '\''))
                return -ENOMEM;
            open = false;
            if (tpl_buf_add(out, "\"'\"", 3))
                return -ENOMEM;
            continue;
        }
        if (!open && add_c(out, '\''))
            return -ENOMEM;
        open = true;
        if (add_c(out, s[i]))
            return -ENOMEM;
    }
    return open ? add_c(out, '\'') : 0;
}

/* Perl's File::Basename::dirname on Unix, as parallel's {//}. */
static void dir_of(const char *s, size_t n, const char **out, size_t *outlen)
{
    /* strip trailing slashes, keeping one character */
    while (n > 1 && s[n - 1] == '/')
        n--;
    for (int round = 0; round < 2; round++) {
        size_t slash = n;
        while (slash > 0 && s[slash - 1] != '/')
            slash--;
        bool base_empty = slash == n;
        size_t d = slash;   /* the directory part, with its trailing '/' */
        if (d == 0) {
            *out = ".";
            *outlen = 1;
            if (!base_empty || round == 1)
                return;
            /* "" : fileparse gives "./", basename "": parse "." again,
             * whose directory is "." too */
            return;
        }
        while (d > 1 && s[d - 1] == '/')
            d--;
        *out = s;
        *outlen = d;
        if (!base_empty)
            return;
        n = d;   /* only the root is left ("/"): its dirname is itself */
    }
}

void tpl_modify(enum tpl_mod mod, const char *s, size_t n, const char **out,
                size_t *outlen)
{
    if (mod == TPL_M_DIR) {
        dir_of(s, n, out, outlen);
        return;
    }
    if (mod == TPL_M_BASE || mod == TPL_M_BASENOEXT) {
        size_t i = n;
        while (i > 0 && s[i - 1] != '/')
            i--;
        s += i;
        n -= i;
    }
    if (mod == TPL_M_NOEXT || mod == TPL_M_BASENOEXT) {
        /* s:\.[^/.]*$:: */
        size_t i = n;
        while (i > 0 && s[i - 1] != '.' && s[i - 1] != '/')
            i--;
        if (i > 0 && s[i - 1] == '.')
            n = i - 1;
    }
    *out = s;
    *outlen = n;
}

/* ---- shell words ------------------------------------------------------ */

bool tpl_shell_word(const char *w, size_t n)
{
    static const char *const words[] = {
        /* reserved words (sh and bash) */
        "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until",
        "do", "done", "in", "function", "select", "time", "coproc",
        /* builtins that have no program of their own, or must run in
         * the shell to mean anything */
        "cd", "exit", "export", "readonly", "return", "set", "shift", "unset",
        "eval", "exec", "source", "trap", "times", "break", "continue", "alias",
        "unalias", "read", "wait", "umask", "ulimit", "getopts", "command", "type",
        "hash", "jobs", "fg", "bg", "local", "let", "declare", "typeset", "builtin",
        "enable", "shopt", "history", "fc", "disown", "suspend", "logout",
        "pushd", "popd", "dirs", "mapfile", "readarray", "caller", "compgen",
        "complete",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && !memcmp(words[i], w, n))
            return true;
    return false;
}

static bool plain_literal_byte(unsigned char c)
{
    return plain_value_byte(c) || c == ',' || c == ':' || c == '@' || c == '%' ||
           c == '^' || c == '=' || c == ' ' || c == '\t';
}

static bool blank(char c) { return c == ' ' || c == '\t'; }

/* ---- parsing ---------------------------------------------------------- */

/* A replacement string at s ("{...}"), of length *len; false if none. */
static bool replacement(const char *s, struct tpl_part *p, size_t *len)
{
    static const struct {
        const char *s;
        enum tpl_mod mod;
    } tail[] = {
        {"}", TPL_M_NONE},   {".}", TPL_M_NOEXT},     {"/}", TPL_M_BASE},
        {"//}", TPL_M_DIR},  {"/.}", TPL_M_BASENOEXT},
    };
    if (s[0] != '{')
        return false;
    memset(p, 0, sizeof *p);
    if ((s[1] == '#' || s[1] == '%') && s[2] == '}') {
        p->mod = s[1] == '#' ? TPL_M_SEQ : TPL_M_SLOT;
        *len = 3;
        return true;
    }
    size_t i = 1;
    unsigned long pos = 0;
    while (s[i] >= '0' && s[i] <= '9' && i < 8)
        pos = pos * 10 + (unsigned long)(s[i++] - '0');
    if (i > 1 && pos == 0)
        return false;   /* {0} is no replacement string */
    if (s[i] >= '0' && s[i] <= '9')
        return false;   /* too many digits */
    for (size_t k = 0; k < sizeof tail / sizeof tail[0]; k++) {
        size_t tl = strlen(tail[k].s);
        if (!strncmp(s + i, tail[k].s, tl)) {
            p->mod = tail[k].mod;
            p->pos = (unsigned)pos;
            *len = i + tl;
            return true;
        }
    }
    return false;
}

static int add_part(struct tpl *t, const struct tpl_part *p, size_t *cap)
{
    if (t->nparts == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct tpl_part *q = realloc(t->parts, c * sizeof *q);
        if (!q)
            return -ENOMEM;
        t->parts = q;
        *cap = c;
    }
    t->parts[t->nparts++] = *p;
    return 0;
}

/* Split t->text into parts; *any is set if a replacement string is seen. */
static int split(struct tpl *t, bool *any)
{
    size_t cap = 0;
    const char *s = t->text, *lit = s;
    *any = false;
    t->nparts = 0;
    while (*s) {
        struct tpl_part p;
        size_t len;
        if (!replacement(s, &p, &len)) {
            s++;
            continue;
        }
        if (s > lit) {
            struct tpl_part l = {.lit = true, .text = lit, .len = (size_t)(s - lit)};
            if (add_part(t, &l, &cap))
                return -ENOMEM;
        }
        p.text = s;
        p.len = len;
        if (add_part(t, &p, &cap))
            return -ENOMEM;
        *any = true;
        s += len;
        lit = s;
    }
    if (s > lit) {
        struct tpl_part l = {.lit = true, .text = lit, .len = (size_t)(s - lit)};
        if (add_part(t, &l, &cap))
            return -ENOMEM;
    }
    return 0;
}

/* Decide t->shell and t->prog (see tpl_parse). */
static int decide(struct tpl *t)
{
    t->shell = true;
    if (t->raw || t->nparts == 0 || !t->parts[0].lit)
        return 0;
    for (size_t i = 0; i < t->nparts; i++)
        if (t->parts[i].lit)
            for (size_t k = 0; k < t->parts[i].len; k++)
                if (!plain_literal_byte((unsigned char)t->parts[i].text[k]))
                    return 0;
    const struct tpl_part *p = &t->parts[0];
    size_t b = 0;
    while (b < p->len && blank(p->text[b]))
        b++;
    size_t e = b;
    while (e < p->len && !blank(p->text[e]))
        e++;
    if (e == b)
        return 0;   /* the command word would start with a replacement */
    if (e == p->len && t->nparts > 1)
        return 0;   /* a replacement is glued to the command word */
    const char *w = p->text + b;
    size_t n = e - b;
    if (memchr(w, '=', n) || tpl_shell_word(w, n))
        return 0;
    t->prog = strndup(w, n);
    if (!t->prog)
        return -ENOMEM;
    t->shell = false;
    return 0;
}

int tpl_parse(struct tpl *t, const char *text)
{
    memset(t, 0, sizeof *t);
    size_t n = strlen(text);
    bool empty = true;
    for (size_t i = 0; i < n; i++)
        if (!blank(text[i]))
            empty = false;
    t->raw = empty;
    t->text = malloc(n + 4);
    if (!t->text)
        return -ENOMEM;
    memcpy(t->text, empty ? "{}" : text, empty ? 3 : n + 1);
    bool any;
    int r = split(t, &any);
    if (!r && !any) {
        memcpy(t->text + n, " {}", 4);
        r = split(t, &any);
    }
    if (!r)
        r = decide(t);
    if (r)
        tpl_free(t);
    return r;
}

void tpl_free(struct tpl *t)
{
    free(t->text);
    free(t->parts);
    free(t->prog);
    memset(t, 0, sizeof *t);
}

/* ---- expansion -------------------------------------------------------- */

/* Value k (0-based) of j, or "" beyond the sources. */
static void value(const struct tpl_job *j, size_t k, const char **s, size_t *n)
{
    if (k < j->nv) {
        *s = j->v[k];
        *n = j->vlen[k];
    } else {
        *s = "";
        *n = 0;
    }
}

static int put_number(const struct tpl_part *p, const struct tpl_job *j, struct tpl_buf *out)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRIu64,
                     p->mod == TPL_M_SEQ ? j->seq : (uint64_t)j->slot);
    return tpl_buf_add(out, num, (size_t)n);
}

int tpl_line(const struct tpl *t, const struct tpl_job *j, struct tpl_buf *out)
{
    for (size_t i = 0; i < t->nparts; i++) {
        const struct tpl_part *p = &t->parts[i];
        int r = 0;
        if (p->lit) {
            r = tpl_buf_add(out, p->text, p->len);
        } else if (p->mod == TPL_M_SEQ || p->mod == TPL_M_SLOT) {
            r = put_number(p, j, out);
        } else {
            size_t first = p->pos ? p->pos - 1 : 0, last = p->pos ? p->pos : j->nv;
            for (size_t k = first; k < last && !r; k++) {
                const char *s, *m;
                size_t n, mn;
                value(j, k, &s, &n);
                tpl_modify(p->mod, s, n, &m, &mn);
                if (k > first)
                    r = add_c(out, ' ');
                if (!r)
                    r = t->raw ? tpl_buf_add(out, m, mn) : tpl_quote(m, mn, out);
            }
        }
        if (r)
            return r;
    }
    return 0;
}

long tpl_words(const struct tpl *t, const struct tpl_job *j, struct tpl_buf *out)
{
    long words = 0;
    bool in = false;   /* a word is open */
    for (size_t i = 0; i < t->nparts; i++) {
        const struct tpl_part *p = &t->parts[i];
        if (p->lit) {
            for (size_t k = 0; k < p->len; k++) {
                if (blank(p->text[k])) {
                    if (in && add_c(out, '\0'))
                        return -ENOMEM;
                    words += in;
                    in = false;
                } else {
                    if (add_c(out, p->text[k]))
                        return -ENOMEM;
                    in = true;
                }
            }
            continue;
        }
        if (p->mod == TPL_M_SEQ || p->mod == TPL_M_SLOT) {
            if (put_number(p, j, out))
                return -ENOMEM;
            in = true;
            continue;
        }
        size_t first = p->pos ? p->pos - 1 : 0, last = p->pos ? p->pos : j->nv;
        for (size_t k = first; k < last; k++) {
            const char *s, *m;
            size_t n, mn;
            value(j, k, &s, &n);
            tpl_modify(p->mod, s, n, &m, &mn);
            if (k > first) {   /* "{}" of several sources: one word each */
                if (add_c(out, '\0'))
                    return -ENOMEM;
                words++;
            }
            if (tpl_buf_add(out, m, mn))
                return -ENOMEM;
            in = true;
        }
    }
    if (in) {
        if (add_c(out, '\0'))
            return -ENOMEM;
        words++;
    }
    return words;
}
