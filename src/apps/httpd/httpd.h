/* ipcbox httpd: the pieces of the static HTTP/1.1 server and what they
 * share. One concept per file:
 *   conn.c     connection state machine (read, parse, dispatch, write,
 *              keep-alive, pipelining, timeouts, drain/abort)
 *   respond.c  response heads, error pages, OPTIONS, redirects
 *   static.c   static files: lookup, conditionals, gzip siblings, 200/304
 *   body.c     sending file bodies (pread+send, or sendfile)
 *   range.c    206 single range and multipart/byteranges
 *   listing.c  directory listings
 *   cgi.c      CGI/1.1 (RFC 3875): spawn, pipes, output, reaping
 *   cgi_env.c  the CGI meta-variables
 *   cgi_spawn.c  starting a script from its checked descriptor; the cap
 *   cgi_stderr.c a script's stderr framed into the server log
 *   loggate.c  peer-triggered log lines: at most one a second per cause
 *   fs.c       confined path resolution under ROOT
 *   cache.c    per-worker open-file/stat cache
 *   worker.c   per-worker state (scratch buffers, Date, cache)
 *   mime.c     Content-Type from /etc/mime.types or a built-in table
 *   alog.c     access log (combined format), reopened on SIGHUP
 *   main.c     the applet, options and `serve` registration */
#ifndef IPCBOX_HTTPD_H
#define IPCBOX_HTTPD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ipcbox/buf.h"
#include "ipcbox/http.h"
#include "ipcbox/http_fields.h"
#include "ipcbox/log.h"
#include "ipcbox/loop.h"
#include "ipcbox/server.h"

#define HTTPD_PORT 8080
#define HTTPD_SERVER_NAME "ipcbox/" IPCBOX_VERSION
/* Files up to this size are kept in memory by the cache and written with
 * the header in one write; larger ones go out with sendfile(). */
#define HTTPD_SMALL_FILE (64 * 1024)
/* The per-connection buffer of a large file sent by pread+send, held only
 * while the transfer runs. */
#define HTTPD_FILE_BUF (64 * 1024)
/* Default --max-output: unsent response bytes a connection may hold
 * (its own buffer plus the worker's scratch of the current pass) before
 * further pipelined requests wait for the client to read. Every response
 * kind counts: cached files, multipart ranges, listings, errors, CGI
 * heads. A connection holds at most this plus one response. */
#define HTTPD_MAX_OUTPUT (256 * 1024)
/* Scratch buffers larger than this after a pass are freed (a large
 * listing does not pin its memory in the worker). */
#define HTTPD_SCRATCH_KEEP (128 * 1024)
/* Default --max-listing: directory entries read for one listing. */
#define HTTPD_MAX_LISTING 10000
/* Longest decoded path. */
#define HTTPD_PATH_MAX 4096

/* ---- mime.c ---------------------------------------------------------------- */

/* Extension -> type table, read-only once loaded. */
struct mime_table;
/* Load /etc/mime.types (or path) on top of the built-in table. Returns
 * NULL on allocation failure only. */
struct mime_table *mime_load(const char *path);
void mime_free(struct mime_table *t);
/* Type for a file name (by its last extension); never NULL. */
const char *mime_lookup(const struct mime_table *t, const char *name);

/* ---- alog.c ---------------------------------------------------------------- */

/* The access log: a file descriptor shared by every worker, written one
 * line per write(). */
struct alog {
    int fd;              /* -1 = off */
    const char *path;    /* NULL = stdout; else absolute */
    char *abs;           /* path made absolute (owned), or NULL */
};
/* Open the log (path NULL: stdout). Returns 0 or -errno. */
int alog_open(struct alog *a, const char *path);
/* Reopen the file in place (dup2 over the same fd), for SIGHUP. */
int alog_reopen(struct alog *a);
void alog_close(struct alog *a);

/* ---- configuration and per-worker state -------------------------------------- */

/* Read-only after start-up; shared by every worker. */
struct httpd_cfg {
    const char *root;        /* as given */
    char *root_real;         /* realpath of root */
    int root_fd;             /* O_PATH|O_DIRECTORY */
    bool listing, show_hidden, follow_symlinks;
    bool sendfile;           /* large files by sendfile() (else pread+send) */
    const char *cgi_prefix;  /* "/cgi-bin/" or NULL */
    size_t cgi_prefix_len;
    unsigned cgi_timeout_ms;
    unsigned cgi_max;        /* scripts running at once (all workers) */
    size_t cgi_stderr_max;   /* stderr bytes logged per request */
    struct cgi_shared *cgi_shared;   /* the running count, process-shared */
    struct hlog_gates *log_gates;    /* loggate.c, process-shared */
    size_t max_body;         /* CGI request bodies */
    unsigned header_timeout_ms, idle_timeout_ms, send_timeout_ms;
    size_t cache_entries;
    size_t cache_fds;        /* descriptors all caches keep open; 0 = auto */
    size_t max_output;       /* per-connection unsent response bytes at
                                which parsing pauses (--max-output) */
    unsigned max_ranges;     /* ranges per request (--max-ranges) */
    unsigned max_listing;    /* directory entries read per listing */
    struct mime_table *mime;
    struct alog alog;
    const ibx_log *log;
    bool per_conn_worker;    /* thread/fork models: a worker per connection */
};

struct hcache;

/* ---- loggate.c --------------------------------------------------------------- */

/* The causes of log lines a peer can trigger at will: a Range header
 * ignored, a listing truncated, a connection at --max-output, a CGI
 * request whose body was refused (400, 413), a CGI request that failed
 * (500, 502, 504: a script can be asked to fail as often as a peer
 * likes), and a static file answered 500 (at the descriptor limit). */
enum hlog_cause {
    HLOG_RANGE, HLOG_LISTING, HLOG_OUTPUT, HLOG_CGI_BODY, HLOG_CGI_FAIL, HLOG_STATIC_500,
    HLOG_CGI_LIMIT,
    HLOG_CAUSES
};
/* Create the gates (shared by every worker, thread and forked process)
 * before any worker starts. Returns 0 or -errno. */
int hlog_init(struct httpd_cfg *cfg);
void hlog_fini(struct httpd_cfg *cfg);
/* True if a line of this cause may be written now (at most one a second
 * for the whole server); *held is then the count of lines of this cause
 * held back since the last one. */
bool hlog_due(const struct httpd_cfg *cfg, enum hlog_cause cause, unsigned long *held);

/* State of one worker loop (or, in the thread and fork models, of one
 * connection): scratch buffers, the date cache, the file cache. */
struct hworker {
    ibx_worker *w;
    const struct httpd_cfg *cfg;
    struct hcache *cache;
    struct ibx_http_request req;     /* the request being handled */
    ibx_buf out;                     /* response bytes of this pass */
    int64_t date_sec;
    char date[IBX_HTTP_DATE_LEN + 1];
    size_t rin_cap;
    char *rin;                       /* read scratch */
    uint64_t seq;                    /* multipart boundaries */
    /* the representation chosen by static.c, for range.c */
    const struct centry *range_orig;
    bool range_gz, range_vary;
};

/* The state of this httpd on worker w, created on first use and freed
 * when the worker ends (ibx_worker_data). NULL on ENOMEM. */
struct hworker *hworker_get(const struct httpd_cfg *cfg, ibx_worker *w);
/* Refresh and return the Date value. */
const char *hworker_date(struct hworker *hw);

/* ---- cache.c --------------------------------------------------------------- */

enum centry_kind { CE_MISSING, CE_FILE, CE_DIR, CE_OTHER };

/* A cached lookup of one decoded path (relative to ROOT). */
struct centry {
    struct centry *hnext;            /* hash chain */
    struct centry *lprev, *lnext;    /* LRU list */
    uint64_t hash;
    char *path;                      /* key, "/a/b" */
    enum centry_kind kind;
    int err;                         /* errno of a failed lookup */
    int fd;                          /* open file (CE_FILE), else -1 */
    struct stat st;
    int64_t checked;                 /* second of the last validation */
    char *body;                      /* contents of small files */
    const char *mime;
    char etag[48];
    size_t etag_len;
    char lastmod[IBX_HTTP_DATE_LEN + 1];
    char *fields;                    /* Content-Type, Last-Modified, ETag,
                                        Accept-Ranges lines */
    size_t fields_len;
};

struct hcache *cache_new(const struct httpd_cfg *cfg, size_t max_entries);
void cache_free(struct hcache *c);
/* Look up path, validating a cached entry at most once a second (a file
 * replaced, grown or touched is noticed). Never NULL except on ENOMEM. */
struct centry *cache_get(struct hcache *c, const char *path, int64_t now);
/* A new descriptor (close-on-exec) for the open file of entry e, closing
 * cached files of c to make room on EMFILE/ENFILE. Returns it or -errno. */
int cache_dup_fd(struct hcache *c, const struct centry *e);
/* fs_open, closing cached files of c to make room on EMFILE/ENFILE. */
int cache_open(struct hcache *c, const char *path, int flags);

/* ---- fs.c ------------------------------------------------------------------ */

/* Open path (decoded, normalised, "/a/b") under the root with flags,
 * refusing symlinks that leave the root unless follow_symlinks, and
 * paths that are not fs_path_visible (-ENOENT). Returns the fd or -errno
 * (-EXDEV for an escape). */
int fs_open(const struct httpd_cfg *cfg, const char *path, int flags);
/* Open the one path component name (no '/', not "." or "..") of the
 * directory dirfd, itself opened by fs_open, under the same rules:
 * hidden and partial names are -ENOENT, and a symlink is followed only if
 * follow_symlinks or the file it leads to is under the root (checked on
 * the opened descriptor: -EXDEV). O_PATH is refused (-EINVAL). Returns the
 * fd (close-on-exec) or -errno. This lets a caller resolve a directory
 * once and use both it and a file in it without a second lookup by
 * name. */
int fs_open_at(const struct httpd_cfg *cfg, int dirfd, const char *name, int flags);
/* True if the path component name[0..len) may be served and listed: not
 * an upload in progress (never), not hidden (a leading '.', other than
 * ".well-known") unless show_hidden. */
bool fs_name_visible(const struct httpd_cfg *cfg, const char *name, size_t len);
/* True if every component of path is fs_name_visible. */
bool fs_path_visible(const struct httpd_cfg *cfg, const char *path);
/* Stat the entry name of the directory dirfd (opened by fs_open from
 * dirpath, "/a/" or "/a") for a listing: lstat relative to dirfd, and for
 * a symlink, what a request for dirpath/name would open (so a link that
 * leaves the root is neither followed nor listed). Returns 0 or -errno. */
int fs_stat_entry(const struct httpd_cfg *cfg, int dirfd, const char *dirpath,
                  const char *name, struct stat *st);

/* ---- the connection ---------------------------------------------------------- */

struct cgi;

/* A file segment to send after the buffered bytes. */
struct hsend {
    int fd;                   /* -1 = none */
    off_t off, end;           /* next byte to read, end of the segment */
    char *buf;                /* pread+send mode: HTTPD_FILE_BUF bytes */
    uint32_t bpos, blen;      /* unsent bytes are buf[bpos..blen) */
    bool fill;                /* buf holds a head: fill the rest first */
};

/* Multipart/byteranges in progress. */
struct hmulti {
    int fd;
    uint64_t size;
    const char *mime;
    unsigned n, next;
    struct ibx_http_range r[IBX_HTTP_MAX_RANGES];
    char boundary[24];
};

struct hconn {
    ibx_conn base;            /* first */
    ibx_io io;
    ibx_timer timer;
    ibx_defer free_later;
    struct hworker *hw;
    struct httpd_cfg *cfg;
    ibx_buf in;               /* unparsed bytes kept between reads */
    ibx_buf out;              /* unsent response bytes */
    struct hsend send;
    struct hmulti *multi;
    struct cgi *cgi;
    uint64_t deadline;        /* ms, loop clock */
    uint64_t head_started;    /* ms when the current head began, 0 = none */
    uint64_t req_t0_us;       /* CLOCK_MONOTONIC us when the current request's
                                 head began to be parsed, 0 = none (the
                                 access log's duration) */
    uint64_t opened_ms;       /* loop clock at accept (the debug lines) */
    unsigned requests;        /* requests answered (the debug lines) */
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } peer;
    socklen_t peerlen;
    bool closing, close_after, eof, draining, reading_body;
    bool head_req;            /* the current request is HEAD */
    bool linger;              /* unread input may follow: linger on close */
    bool lingering;           /* FIN sent, discarding input until EOF */
    bool nodelay;             /* TCP_NODELAY set */
    bool held;                /* bytes sent with MSG_MORE wait for the FIN */
    bool resume;              /* input left for a later pass: resume on
                                 IBX_EV_WRITE (the output bound, or the pass
                                 yielded to other connections) */
    bool yield;               /* costly work was done: end this pass */
    bool out_logged;          /* the max-output line was logged */
    uint8_t minor;            /* its HTTP/1.minor */
};

/* ---- respond.c -------------------------------------------------------------- */

/* A response head being built into hw->out. */
struct hresp {
    int status;
    bool head_only;           /* HEAD: no body */
    bool close;               /* send Connection: close and close after */
    uint64_t body_len;        /* Content-Length; UINT64_MAX = none */
    const char *reason;       /* reason phrase; NULL = the standard one */
};

/* Append the status line, Date and Server, then Connection as needed.
 * Field lines the caller adds follow; finish with resp_end(). */
void resp_start(struct hconn *c, struct hresp *r);
/* Append a header line "name: value". */
void resp_field(struct hconn *c, const char *name, const char *value);
/* Append Content-Length (when body_len is set) and the blank line. */
void resp_end(struct hconn *c, const struct hresp *r);
/* A complete error (or plain) response with a small HTML body. */
void resp_error(struct hconn *c, int status);
/* resp_error without the access-log line (for a caller that logs a saved
 * copy of its request). Returns the body bytes queued. */
uint64_t resp_error_page(struct hconn *c, int status);
/* A redirect to location (already escaped). */
void resp_redirect(struct hconn *c, int status, const char *location);
/* Log the current request (c->hw->req) in the access log. */
void resp_log(struct hconn *c, int status, uint64_t bytes);
/* Log a request described by req (which may be a saved copy). The line
 * is the combined format plus the request's duration in microseconds
 * (Apache's %D) as the last field (docs/logging.md). */
void resp_log_req(struct hconn *c, const struct ibx_http_request *req,
                  int status, uint64_t bytes);
/* CLOCK_MONOTONIC in microseconds (request durations). */
uint64_t resp_clock_us(void);
/* The output buffer of c (its own when it holds unsent bytes, else the
 * worker's scratch). */
ibx_buf *conn_outbuf(struct hconn *c);

/* ---- static.c, range.c, listing.c, cgi.c ------------------------------------- */

/* Queue len bytes of e from off as the body (memory copy for cached small
 * files, a dup'd fd for sendfile otherwise). */
void static_send_body(struct hconn *c, const struct centry *e, uint64_t off,
                      uint64_t len);
/* Append Content-Type, Last-Modified, ETag, Accept-Ranges (and
 * Content-Encoding, Vary) of the representation being served. */
void static_rep_fields(struct hconn *c, const struct centry *e);
/* Percent-encode src for a URL path (keeps '/' and unreserved bytes) into
 * dst (cap bytes, NUL-terminated, truncated if needed). Returns length. */
size_t url_escape(char *dst, size_t cap, const char *src);
/* Escape &, <, >, ", ' for HTML. Returns length. */
size_t html_escape(char *dst, size_t cap, const char *src);

/* Serve GET/HEAD for a decoded path (the query already split off: query.p
 * is NULL when the target had none). */
void static_serve(struct hconn *c, const char *path, struct ibx_http_str query);
/* Serve ranges of a file entry (status 206 or 416). Returns false when
 * the Range header is to be ignored (serve 200). */
bool range_serve(struct hconn *c, struct centry *e, bool head);
/* Continue a multipart response: queue the next part. Returns false when
 * every part has been queued. */
bool range_next_part(struct hconn *c);
void range_free(struct hconn *c);
/* Serve a listing of directory path (ends in '/'). */
void listing_serve(struct hconn *c, const char *path, bool head);

/* A NULL-terminated environment under construction. */
struct cgi_env {
    char **v;
    size_t n, cap;
};
/* Append NAME=value (vn bytes). Returns 0 or -ENOMEM. */
int cgi_env_add(struct cgi_env *e, const char *name, const char *v, size_t vn);
/* The meta-variables of the current request (c->hw->req) for the script
 * script_name with path_info and query. Returns 0 or -ENOMEM. */
int cgi_env_build(struct cgi_env *e, struct hconn *c, const char *script_name,
                  const char *path_info, struct ibx_http_str query);
void cgi_env_free(struct cgi_env *e);

/* True if path is under the CGI prefix. */
bool cgi_match(const struct httpd_cfg *cfg, const char *path);
/* Start CGI for the current request; body bytes already received are
 * taken from in[0..*avail) (*avail is updated to what was consumed). */
void cgi_start(struct hconn *c, const char *path, struct ibx_http_str query,
               const char *in, size_t *avail);
/* Feed more request-body bytes to a running CGI; returns bytes used. */
size_t cgi_feed(struct hconn *c, const char *in, size_t len);
/* The client side wrote its buffer out: let CGI output flow again. */
void cgi_resume(struct hconn *c);
/* False while a Content-Length body waits for the script to take what is
 * buffered (reading from the client pauses). */
bool cgi_wants_body(const struct hconn *c);
/* Kill the script and release everything (connection closing). */
void cgi_abort(struct hconn *c);
/* True while the CGI response is still being produced. */
bool cgi_active(const struct hconn *c);

/* ---- cgi_spawn.c, cgi_stderr.c ------------------------------------------------ */

/* The parent's ends of a started script. */
struct cgi_proc {
    pid_t pid;
    int in, out, err;         /* its stdin, stdout, stderr (close-on-exec) */
};
/* Run the regular file open at script_fd (checked by the caller) with the
 * working directory dir_fd, in a process group of its own. Returns 0 or
 * -errno (an exec failure included). */
int cgi_spawn(int script_fd, int dir_fd, char *const argv[], char *const envp[],
              struct cgi_proc *p);
/* Create the process-shared running count (before any worker starts).
 * Returns 0 or -errno. */
int cgi_shared_init(struct httpd_cfg *cfg);
void cgi_shared_fini(struct httpd_cfg *cfg);
/* Take one of the --cgi-max slots; false (and a log line at most once a
 * second) when all are taken. */
bool cgi_slot_take(const struct httpd_cfg *cfg);
/* Give a slot back (the script was reaped). */
void cgi_slot_put(const struct httpd_cfg *cfg);

/* Longest stderr line logged; the rest of a longer line is dropped. */
#define CGI_ERR_LINE 1024
/* The stderr of one request being framed into the log. */
struct cgi_errlog {
    char script[HTTPD_PATH_MAX];      /* its name (SCRIPT_NAME), raw */
    char peer[IBX_ADDRSTRLEN];        /* the client */
    int pid;                          /* 0 until started */
    char line[CGI_ERR_LINE];
    size_t n;                 /* bytes in line */
    size_t total;             /* stderr bytes taken so far */
    bool cut, capped;         /* dropping the rest of a line, of all */
};
/* Take n bytes the script wrote to stderr: log each complete line. */
void cgi_errlog_feed(struct cgi_errlog *e, const ibx_log *log, size_t max_total,
                     const char *p, size_t n);
/* The script's stderr ended: log an unterminated last line. */
void cgi_errlog_end(struct cgi_errlog *e, const ibx_log *log);

/* ---- body.c ----------------------------------------------------------------- */

/* conn_flush() results. */
enum { FLUSH_DONE, FLUSH_AGAIN, FLUSH_ERROR };
/* Send the file segment: FLUSH_DONE when it is all out (the fd closed). */
int body_send(struct hconn *c);
/* Move a short pending head into the body buffer so both leave in one
 * send (pread+send mode). */
void body_coalesce(struct hconn *c);
/* Drop the segment (closing). */
void body_end(struct hconn *c);

/* ---- conn.c ----------------------------------------------------------------- */

extern const struct ibx_proto httpd_proto;
/* Send what is buffered (and file segments) and continue the state
 * machine; used by CGI when it produced output. */
void conn_kick(struct hconn *c);
/* Close now (deferred free). */
void conn_close(struct hconn *c);
/* Set TCP_NODELAY (once): before a second response or a streamed body. */
void conn_nodelay(struct hconn *c);

#endif
