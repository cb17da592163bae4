/* The terminal side of chat: libedit does all editing and history; this
 * file only keeps libedit in unbuffered mode (one key per call, so the
 * input line and the socket share one poll loop) and, to print above the
 * line, moves to where the line starts, clears to the end of the screen,
 * prints, and asks libedit to draw its line again. */
#include <histedit.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "termtext.h"
#include "tty.h"

/* Lines of history kept. */
#define HISTORY_SIZE 500

struct chat_tty {
    EditLine *el;
    History *hist;
    const char *(*prompt)(void *ctx);
    void *ctx;
};

static char *prompt_of(EditLine *el)
{
    struct chat_tty *t = NULL;
    el_get(el, EL_CLIENTDATA, &t);
    return (char *)(t && t->prompt ? t->prompt(t->ctx) : "> ");
}

struct chat_tty *chat_tty_open(const char *(*prompt)(void *ctx), void *ctx)
{
    setlocale(LC_CTYPE, "");        /* multibyte input, as the terminal sends */
    struct chat_tty *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->prompt = prompt;
    t->ctx = ctx;
    t->el = el_init("ipcbox", stdin, stdout, stderr);
    t->hist = history_init();
    if (!t->el || !t->hist) {
        chat_tty_close(t);
        return NULL;
    }
    HistEvent ev;
    history(t->hist, &ev, H_SETSIZE, HISTORY_SIZE);
    history(t->hist, &ev, H_SETUNIQUE, 1);
    el_set(t->el, EL_CLIENTDATA, t);
    el_set(t->el, EL_EDITOR, "emacs");
    el_set(t->el, EL_SIGNAL, 1);            /* terminal restored on signals, resize followed */
    el_set(t->el, EL_HIST, history, t->hist);
    el_set(t->el, EL_PROMPT, prompt_of);
    el_source(t->el, NULL);                 /* ~/.editrc, as other libedit programs */
    el_set(t->el, EL_UNBUFFERED, 1);        /* draws the prompt */
    return t;
}

/* Width of the terminal in columns. */
static int width(struct chat_tty *t)
{
    int cols = 0;
    if (el_get(t->el, EL_GETTC, "co", &cols) != 0 || cols <= 0)
        cols = 80;
    return cols;
}

/* Columns of the first n bytes of s. */
static int cols_of(const char *s, size_t n)
{
    char buf[4096];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return termtext_cols(buf);
}

/* Rows above the cursor that the prompt and line take (cursor at byte
 * offset cur of the line). */
static int rows_above(struct chat_tty *t, const char *buf, size_t cur)
{
    int pos = termtext_cols(prompt_of(t->el)) + cols_of(buf, cur);
    return pos / width(t);
}

int chat_tty_read(struct chat_tty *t, char *out, size_t size)
{
    int n = 0;
    const char *l = el_gets(t->el, &n);
    if (!l || n <= 0)
        return -1;
    /* unbuffered libedit hands Ctrl-D on an empty line over as the byte
     * itself (on a line with text it deletes a character instead) */
    if (n == 1 && l[0] == 4)
        return -1;
    if (l[n - 1] != '\n')
        return 0;
    n--;
    snprintf(out, size, "%.*s", n, l);
    if (n) {
        HistEvent ev;
        history(t->hist, &ev, H_ENTER, out);
    }
    /* libedit has moved below the finished line: take the line off the
     * screen (what was sent is shown as a message instead) */
    int rows = (termtext_cols(prompt_of(t->el)) + cols_of(out, (size_t)n)) / width(t) + 1;
    printf("\r\033[%dA\033[J", rows);
    fflush(stdout);
    /* a fresh, empty line with its prompt */
    el_set(t->el, EL_UNBUFFERED, 0);
    el_set(t->el, EL_UNBUFFERED, 1);
    return 1;
}

void chat_tty_show(struct chat_tty *t, const char *line)
{
    const LineInfo *li = el_line(t->el);
    int up = rows_above(t, li->buffer, (size_t)(li->cursor - li->buffer));
    fputs("\r", stdout);
    if (up)
        printf("\033[%dA", up);
    printf("\033[J%s\n", line);
    fflush(stdout);
    el_set(t->el, EL_REFRESH);
}

void chat_tty_close(struct chat_tty *t)
{
    if (!t)
        return;
    if (t->el) {
        fputs("\r\033[J", stdout);
        fflush(stdout);
        el_end(t->el);
    }
    if (t->hist)
        history_end(t->hist);
    free(t);
}
