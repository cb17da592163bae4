/* A CGI script's stderr, framed into the server log. The script writes
 * what it likes; the log gets one line per line it wrote, each of the form
 *   ... warn httpd[7]: msg="what the script wrote" cgi=stderr script=/cgi-bin/x pid=123 peer=127.0.0.1:4000
 * with the message quoted and escaped by the logger (ipcbox/log.h), so a
 * script cannot forge a log line or a field, nor send escape sequences to
 * whoever reads the log. A line is cut at CGI_ERR_LINE bytes (noted with
 * truncated=true) and a request's stderr at --cgi-stderr-max bytes, after
 * which one line says so and the rest is read and dropped (the script
 * never blocks on a full pipe). */
#include <stdio.h>
#include <string.h>

#include "httpd.h"

static void emit(struct cgi_errlog *e, const ibx_log *log, bool cut)
{
    if (cut)
        ibx_warn(log, "msg=%.*s cgi=stderr script=%s pid=%d peer=%s truncated=true",
                 (int)e->n, e->line, e->script, e->pid, e->peer);
    else
        ibx_warn(log, "msg=%.*s cgi=stderr script=%s pid=%d peer=%s",
                 (int)e->n, e->line, e->script, e->pid, e->peer);
    e->n = 0;
}

void cgi_errlog_feed(struct cgi_errlog *e, const ibx_log *log, size_t max_total,
                     const char *p, size_t n)
{
    for (size_t i = 0; i < n && !e->capped && max_total; i++) {
        if (e->total++ >= max_total) {
            if (e->n)
                emit(e, log, true);
            ibx_warn(log, "msg=\"further stderr dropped (--cgi-stderr-max)\" cgi=stderr "
                          "script=%s pid=%d peer=%s limit=%zu", e->script, e->pid, e->peer,
                     max_total);
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
