/* The chat client on a terminal: an input line edited by libedit (emacs
 * keys, history), incoming lines printed above it. */
#ifndef IPCBOX_APPS_CHAT_TTY_H
#define IPCBOX_APPS_CHAT_TTY_H

#include <stddef.h>

struct chat_tty;

/* Take over the terminal on stdin/stdout; prompt() gives the prompt text
 * (called at each redraw) with ctx. Returns NULL if libedit fails. */
struct chat_tty *chat_tty_open(const char *(*prompt)(void *ctx), void *ctx);
/* Feed what stdin has (call when poll says it is readable). Returns 1
 * with a finished line in out (size bytes, no newline), 0 while the line
 * is being edited, -1 at end of input (Ctrl-D on an empty line). */
int chat_tty_read(struct chat_tty *t, char *out, size_t size);
/* Print line above the input line, which is redrawn as it was. */
void chat_tty_show(struct chat_tty *t, const char *line);
/* Give the terminal back (the input line is left empty). */
void chat_tty_close(struct chat_tty *t);

#endif
