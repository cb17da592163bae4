/* The command template of `ipcbox pool` (GNU parallel's replacement
 * strings), pure: parsing, expansion into a shell command line (values
 * quoted as parallel quotes them) or into an argument vector, and the
 * decision whether a template needs /bin/sh at all.
 *
 * Replacement strings: {} (the arguments), {.} (without extension), {/}
 * (basename), {//} (dirname), {/.} (basename without extension), {#}
 * (job sequence number), {%} (job slot), and {N} {N.} {N/} {N//} {N/.}
 * for the N-th input source. A template without any of them gets " {}"
 * appended, as parallel does; an empty template runs each argument as a
 * command line of its own. */
#ifndef IPCBOX_APPS_POOL_TEMPLATE_H
#define IPCBOX_APPS_POOL_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a replacement string does to a value. */
enum tpl_mod {
    TPL_M_NONE,      /* {}   the value */
    TPL_M_NOEXT,     /* {.}  without its last extension */
    TPL_M_BASE,      /* {/}  after the last '/' */
    TPL_M_DIR,       /* {//} the directory part ("." when none) */
    TPL_M_BASENOEXT, /* {/.} basename without extension */
    TPL_M_SEQ,       /* {#}  the job's sequence number */
    TPL_M_SLOT,      /* {%}  the job's slot (1..jobs) */
};

/* One piece of a parsed template: literal shell text, or a replacement. */
struct tpl_part {
    bool lit;           /* literal text [text, text + len) */
    const char *text;
    size_t len;
    enum tpl_mod mod;   /* a replacement: what to do */
    unsigned pos;       /* 0: every value (space-separated); N: source N */
};

/* A parsed template. */
struct tpl {
    char *text;              /* owned copy of the template (+ " {}") */
    struct tpl_part *parts;
    size_t nparts;
    bool raw;                /* empty template: the value is the command */
    bool shell;              /* needs /bin/sh -c (see tpl_parse) */
    char *prog;              /* direct: the program word (owned), else NULL */
};

/* The job a template is expanded for. */
struct tpl_job {
    const char *const *v;    /* one value per input source */
    const size_t *vlen;      /* their lengths (values may hold any byte) */
    size_t nv;
    uint64_t seq;
    unsigned slot;
};

/* A growing byte buffer. */
struct tpl_buf {
    char *p;
    size_t len, cap;
};

/* Parse text (copied). shell is set unless every literal byte is plain
 * ([A-Za-z0-9] and "_-./,:+@%^=" and blanks), the first word is wholly
 * literal, holds no '=' and is no shell reserved word; replaced values
 * never force a shell (they are quoted, or given as whole arguments).
 * Returns 0 or -ENOMEM. */
int tpl_parse(struct tpl *t, const char *text);
/* Free what tpl_parse allocated. */
void tpl_free(struct tpl *t);

/* Append the command line of job j to out: literal text as is, values
 * quoted (tpl_quote); raw templates join the values unquoted. This is
 * what /bin/sh -c runs, --dry-run prints and the joblog records.
 * Returns 0 or -ENOMEM. */
int tpl_line(const struct tpl *t, const struct tpl_job *j, struct tpl_buf *out);
/* For a template without shell: the words of job j, each NUL-terminated,
 * appended to out (what sh would make of tpl_line's text). Returns the
 * number of words or -ENOMEM. */
long tpl_words(const struct tpl *t, const struct tpl_job *j, struct tpl_buf *out);

/* Append s[0..n) quoted for sh the way GNU parallel quotes: as is when
 * every byte is in [-_.+a-zA-Z0-9/], '' when empty, else in single
 * quotes (a ' as '"'"'). Returns 0 or -ENOMEM. */
int tpl_quote(const char *s, size_t n, struct tpl_buf *out);
/* Apply mod (not SEQ/SLOT) to s[0..n): *out, *outlen get the result
 * (inside s, or a static "." or "/"). */
void tpl_modify(enum tpl_mod mod, const char *s, size_t n, const char **out,
                size_t *outlen);
/* True if word[0..n) is a shell reserved word or a builtin without a
 * program of its own (cd, exit, export ...): such a command needs sh. */
bool tpl_shell_word(const char *word, size_t n);

/* Append n bytes to b. Returns 0 or -ENOMEM. */
int tpl_buf_add(struct tpl_buf *b, const void *p, size_t n);
/* Free b's memory. */
void tpl_buf_free(struct tpl_buf *b);

#endif
