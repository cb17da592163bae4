/* Text for a terminal line: how many columns a UTF-8 string takes, and
 * how to fit one (a file name, perhaps a peer's) into a given number of
 * columns without breaking the line.
 *
 * Rules (no locale needed, so the result does not depend on LANG):
 *  - C0 controls, DEL, C1 controls, the line and paragraph separators and
 *    the bidirectional overrides and isolates (U+202A..E, U+2066..9:
 *    "Trojan Source") are shown as '?'; so is every byte that is not part
 *    of well-formed UTF-8 (overlong forms and surrogates included).
 *  - Combining marks, zero-width characters and variation selectors take
 *    0 columns; East Asian wide and fullwidth characters and the common
 *    emoji blocks take 2; everything else 1. */
#ifndef IPCBOX_APPS_TERMTEXT_H
#define IPCBOX_APPS_TERMTEXT_H

#include <stddef.h>

/* Which end of a too-wide string termtext_fit keeps. */
enum termtext_keep {
    TERMTEXT_KEEP_HEAD,     /* "long text..." */
    TERMTEXT_KEEP_TAIL,     /* "...ext/name.bin": for paths */
};

/* What termtext_fit puts where text was cut. */
#define TERMTEXT_ELLIPSIS "..."

/* Columns src takes once made safe (as termtext_fit would show it). */
int termtext_cols(const char *src);

/* Copy src into dst (size bytes, always NUL-terminated) made safe for a
 * terminal, in at most cols columns: when it is wider, the end that keep
 * names is kept and TERMTEXT_ELLIPSIS marks the cut (just the ellipsis,
 * or part of it, when cols is tiny). A wide character is never split.
 * Returns the columns written. dst must hold at least 4 * cols + 4 bytes
 * for the whole fitted text to fit; with less it is cut short safely. */
int termtext_fit(char *dst, size_t size, const char *src, int cols,
                 enum termtext_keep keep);

#endif
