/* A CGI script's stderr, framed into the server log. The script writes
 * what it likes; the log gets one line per line it wrote, each of the form
 *   httpd: cgi stderr script="/cgi-bin/x" pid=123 peer=127.0.0.1:4000 msg="..."
 * with the message escaped (quote, backslash, control and non-ASCII bytes
 * as \n, \t, \", \\, \xNN), so a script cannot forge a log line or send
 * escape sequences to whoever reads the log. A line is cut at
 * CGI_ERR_LINE bytes (noted with truncated=1) and a request's stderr at
 * --cgi-stderr-max bytes, after which one line says so and the rest is
 * read and dropped (the script never blocks on a full pipe). */
#include <stdio.h>
#include <string.h>

#include "httpd.h"

size_t cgi_log_escape(char *dst, size_t cap, const char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)src[i];
        const char *esc = ch == '\n' ? "\\n" : ch == '\r' ? "\\r" : ch == '\t' ? "\\t"
                        : ch == '"' ? "\\\"" : ch == '\\' ? "\\\\" : NULL;
        if (esc) {
            memcpy(dst + o, esc, 2);
            o += 2;
        } else if (ch < 0x20 || ch >= 0x7f) {
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
        } else {
            dst[o++] = (char)ch;
        }
    }
    dst[o] = '\0';
    return o;
}

static void emit(struct cgi_errlog *e, const ibx_log *log, bool cut)
{
    char msg[CGI_ERR_LINE * 4 + 8];
    cgi_log_escape(msg, sizeof msg, e->line, e->n);
    ibx_warn(log, "httpd: cgi stderr %s msg=\"%s\"%s", e->tag, msg, cut ? " truncated=1" : "");
    e->n = 0;
}

void cgi_errlog_feed(struct cgi_errlog *e, const ibx_log *log, size_t max_total,
                     const char *p, size_t n)
{
    for (size_t i = 0; i < n && !e->capped && max_total; i++) {
        if (e->total++ >= max_total) {
            if (e->n)
                emit(e, log, true);
            ibx_warn(log, "httpd: cgi stderr %s limit=%zu msg=\"further stderr dropped "
                          "(--cgi-stderr-max)\"", e->tag, max_total);
            e->capped = true;
        } else if (p[i] == '\n') {
            if (!e->cut && e->n)
                emit(e, log, false);
            e->cut = false;
        } else if (!e->cut) {
            e->line[e->n++] = p[i];
            if (e->n == CGI_ERR_LINE) {
                emit(e, log, true);   /* the rest of this line is dropped */
                e->cut = true;
            }
        }
    }
}

void cgi_errlog_end(struct cgi_errlog *e, const ibx_log *log)
{
    if (e->n && !e->cut && !e->capped)
        emit(e, log, false);
    e->n = 0;
}
