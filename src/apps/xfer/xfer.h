/* Shared parts of send, recv and get: the receiving side of one file
 * (confined paths, resumable locked temporary file, verify-then-commit),
 * the sending side of one file (offer, prefix check, hashed reads),
 * blocking frame I/O for the clients (whose progress display is the
 * shared src/apps/progress.h).
 *
 * The per-file logic does no socket I/O of its own (except moving DATA
 * payload with splice), so the event-driven server and the blocking
 * clients share it. Functions returning "a code" return 0 or one of
 * enum ibx_frame_code with a human reason in why[]. */
#ifndef IPCBOX_APPS_XFER_H
#define IPCBOX_APPS_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ipcbox/frame.h"
#include "ipcbox/frame_auth.h"
#include "ipcbox/hash.h"
#include "opt.h"
#include "progress.h"

/* Default port of recv. */
#define XFER_PORT 7070
/* DATA payload per frame that send uses (capped by the peer's HELLO). */
#define XFER_CHUNK (1024u * 1024)
/* Largest DATA payload a receiver announces in HELLO. */
#define XFER_DATA_MAX (1u << 20)
/* Bytes per millisecond a peer is assumed to hash at least (a slow disk,
 * 50 MB/s): a side waiting while the other hashes a file of n bytes
 * extends its timeout by n / XFER_SLOW_HASH_RATE ms, since the protocol
 * has no keepalive. */
#define XFER_SLOW_HASH_RATE 50000u
/* Room for a reason text. */
#define XFER_WHY 256

/* Exit codes of the client applets (docs/frame-protocol.md). */
enum {
    XFER_EXIT_OK = 0,
    XFER_EXIT_IO = 1,
    XFER_EXIT_USAGE = 2,
    XFER_EXIT_REFUSED = 3,
    XFER_EXIT_MISMATCH = 4,
    XFER_EXIT_PROTOCOL = 5,
    XFER_EXIT_AUTH = 6,     /* authentication required, failed or refused */
};
/* Exit code for a result code (0 for the success codes). */
int xfer_exit_for_code(int code);
/* printf into a reason buffer of XFER_WHY bytes (cut if longer). */
void xfer_whyf(char *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- hashing a file in steps ----------------------------------------- */

/* Returned by the *_start functions when a file must be hashed first:
 * call the matching *_step until it returns 1, then *_finish. The event
 * loop does this a slice per pass so that a large file does not stall
 * other clients; the blocking wrappers (xfer_rx_offer ...) do it all. */
#define XFER_PENDING 1000
/* Returned by xfer_rx_end_finish for a verified file: xfer_rx_commit it
 * (blocking: recv runs that on a thread of its own). */
#define XFER_COMMIT 1001

/* A hash over bytes [pos, end) of a file, fed in slices. */
struct xfer_hjob {
    ibx_hash *h;
    int fd;
    bool own_h, own_fd, active;
    uint64_t pos, end;
};

/* Start j over [from, to) of fd into h (owned if own_h / own_fd). */
void xfer_hjob_start(struct xfer_hjob *j, ibx_hash *h, bool own_h, int fd,
                     bool own_fd, uint64_t from, uint64_t to);
/* Hash up to budget more bytes: 1 when done, 0 when more, or -errno. */
int xfer_hjob_step(struct xfer_hjob *j, uint64_t budget);
/* Release what j owns; j is inactive afterwards. */
void xfer_hjob_clear(struct xfer_hjob *j);

/* ---- receiving one file -------------------------------------------- */

/* Receiver policy. */
struct xfer_rx_opts {
    uint64_t max_size;      /* 0 = unlimited */
    bool allow_overwrite;   /* honour the sender's OVERWRITE flag */
    uint32_t umask;         /* cleared from the sender's mode (the
                             * process umask: xfer_process_umask) */
    bool force_mode;        /* every file gets mode, whatever was sent */
    uint32_t mode;          /* with force_mode: 0 .. 0777 */
    int max_depth;          /* directory levels a path may have; 0 = any */
};

/* The permission bits a received file gets for the offered mode: never
 * setuid, setgid or sticky; the forced mode, or the offered bits less the
 * umask. */
uint32_t xfer_rx_mode(const struct xfer_rx_opts *o, uint32_t offered);
/* The process umask. Call while single-threaded (it is read by setting
 * it and back). */
uint32_t xfer_process_umask(void);
/* Parse an octal permission mode of at most 0777 (--mode). Returns 0 or
 * -EINVAL. */
int xfer_parse_mode(const char *s, uint32_t *out);

/* One file being received into a directory. */
struct xfer_rx {
    int dirfd;              /* parent directory of the target, or -1 */
    int fd;                 /* locked temporary file, or -1 */
    int pipe[2];            /* for splice: socket -> pipe -> file */
    char name[IBX_FRAME_NAME_MAX + 1];
    char tmpname[IBX_FRAME_NAME_MAX + 16];
    char path[IBX_FRAME_PATH_MAX + 1];
    uint64_t size;          /* offered size */
    uint64_t pos;           /* bytes of the temporary file that are valid */
    uint64_t proposed;      /* offset proposed in RESUME */
    uint64_t resumed_from;  /* offset confirmed by the sender */
    uint32_t mode;
    int64_t mtime_sec;
    uint32_t mtime_nsec;
    int algo;
    bool overwrite;
    bool existing;          /* target exists with the offered size */
    bool unchanged;         /* ... and the sender confirmed it is equal */
    bool started;           /* confirm received: DATA may follow */
    bool tmp_gone;          /* temporary name renamed or removed */
    bool locked;            /* fd holds the flock: the name is ours */
    uint8_t exist_hash[IBX_FRAME_HASH_MAX];
    uint8_t want_hash[IBX_FRAME_HASH_MAX];  /* from END */
    struct xfer_hjob job;   /* pending hash (see XFER_PENDING) */
    int pending;            /* XFER_PEND_* the job is for, 0 = none */
    ibx_hash *vh;           /* bytes [0, vpos) of the file, read back */
    uint64_t vpos;
    bool leased;            /* our write lease on the file is intact */
    bool verified_while_writing; /* END used vh, not a full re-read */
    bool committed;         /* renamed into place */
    /* directories the offer created (path[mk_from ..] is mk_levels
     * components under mkbase): removed again, deepest first and only
     * while empty, when the file ends without a commit or a part file */
    int mkbase;
    uint16_t mk_from, mk_levels;
};
/* What a pending receiver job is for. */
enum { XFER_PEND_OFFER = 1, XFER_PEND_END = 2 };

/* Zero rx (no fds). */
void xfer_rx_init(struct xfer_rx *rx);
/* Handle OFFER against directory rootfd: check the path and the policy,
 * create missing parent directories (never through a symlink that leaves
 * rootfd), lock the temporary file and fill the RESUME to propose.
 * Returns 0, a code (why set), or XFER_PENDING when a resume prefix or an
 * existing file must be hashed first (then xfer_rx_step and
 * xfer_rx_offer_finish complete reply). */
int xfer_rx_offer_start(struct xfer_rx *rx, int rootfd,
                        const struct ibx_msg_offer *o,
                        const struct xfer_rx_opts *opts,
                        struct ibx_msg_resume *reply, char *why);
/* Fill reply's hash once the pending job is done. Returns 0 or a code. */
int xfer_rx_offer_finish(struct xfer_rx *rx, struct ibx_msg_resume *reply,
                         char *why);
/* Hash up to budget bytes of the pending job: 1 done, 0 more, -errno. */
int xfer_rx_step(struct xfer_rx *rx, uint64_t budget);
/* xfer_rx_offer_start + the whole job + finish, blocking. */
int xfer_rx_offer(struct xfer_rx *rx, int rootfd, const struct ibx_msg_offer *o,
                  const struct xfer_rx_opts *opts, struct ibx_msg_resume *reply,
                  char *why);
/* Handle the sender's confirming RESUME. Returns 0 or a code. */
int xfer_rx_confirm(struct xfer_rx *rx, const struct ibx_msg_resume *c,
                    char *why);
/* DATA bytes the file still expects. */
static inline uint64_t xfer_rx_left(const struct xfer_rx *rx)
{
    return rx->size - rx->pos;
}
/* Hash, from the file, up to budget bytes written since the last call
 * (while they are still in the cache), as long as the write lease holds.
 * Returns 0 or -errno. */
int xfer_rx_verify_step(struct xfer_rx *rx, uint64_t budget);
/* Check the write lease on the temporary file: true while nobody else
 * has opened it; on a break the lease is released at once (the other
 * opener goes on) and END will re-read the whole file instead. */
bool xfer_rx_lease_check(struct xfer_rx *rx);
/* Append bytes already in memory. Returns 0 or a code. */
int xfer_rx_write(struct xfer_rx *rx, const void *p, size_t n, char *why);
/* Move up to max payload bytes from socket sock into the file with
 * splice (non-blocking if the socket is). Returns bytes moved, 0 at EOF,
 * -EAGAIN, or another -errno. */
ssize_t xfer_rx_pump(struct xfer_rx *rx, int sock, size_t max);
/* Handle END: check the length, then hash the temporary file as it is
 * on disk (returns XFER_PENDING: step, then xfer_rx_end_finish), or
 * IBX_XC_UNCHANGED / an error code at once. */
int xfer_rx_end_start(struct xfer_rx *rx, const struct ibx_msg_end *e,
                      char *why);
/* Compare the digest: XFER_COMMIT when it matches, XFER_PENDING when the
 * lease broke meanwhile (step again: a full re-read), or an error code
 * (the temporary file is deleted on a mismatch). */
int xfer_rx_end_finish(struct xfer_rx *rx, char *why);
/* Commit a verified file: mode, mtime, fsync, rename into place only if
 * the name still holds the file verified, fsync the directory. Blocking;
 * touches nothing but rx, so it may run on another thread while the
 * owner leaves rx alone. Returns IBX_XC_OK or an error code (why set). */
int xfer_rx_commit(struct xfer_rx *rx, char *why);
/* xfer_rx_end_start + the whole job + finish + commit, blocking. */
int xfer_rx_end(struct xfer_rx *rx, const struct ibx_msg_end *e, char *why);
/* Close the fds; the temporary file stays for a later resume (an empty
 * one is removed, and so are the directories the offer created when no
 * file is left in them). */
void xfer_rx_close(struct xfer_rx *rx);
/* A write failed for lack of space (ENOSPC, EDQUOT, EFBIG): remove the
 * temporary file now (a partial file must not keep the disk full until
 * it expires); xfer_rx_close then removes the directories the offer
 * made. */
void xfer_rx_drop_partial(struct xfer_rx *rx);
/* Whether the offered file fits: the bytes it still needs (the whole
 * size less a resumable prefix; for an existing file of the same size
 * nothing at the offer, and the whole size once the confirm says it is
 * replaced, as the new file is written beside it) plus other_bytes (promised to other
 * uploads in progress) plus a reserve (reserve_bytes, or reserve_pct of
 * the file system when reserve_pct) must fit in the space available on
 * the file system of the target's directory. Returns 0, or
 * IBX_XC_TOO_BIG with why set; *need gets the bytes this file needs. */
int xfer_rx_space_check(const struct xfer_rx *rx, uint64_t other_bytes,
                        uint64_t reserve_bytes, unsigned reserve_pct,
                        uint64_t *need, char *why);

/* Open path under rootfd for reading, refusing escapes through symlinks
 * and anything but a regular file. Returns the fd, or -code (why set). */
int xfer_open_beneath(int rootfd, const char *path, size_t len, char *why);

/* ---- sending one file ---------------------------------------------- */

/* One file being sent. */
struct xfer_tx {
    int fd;                 /* owned */
    ibx_hash *hash;
    uint64_t size, pos;
    uint64_t resumed_from;
    bool skip_data;         /* receiver has it already: END follows at once */
    struct xfer_hjob job;   /* pending prefix hash */
    struct ibx_msg_resume proposal; /* the receiver's RESUME being checked */
    struct ibx_msg_offer offer;
    char path[IBX_FRAME_PATH_MAX + 1];
};

/* Take ownership of fd (a regular file) sent as path with algo and
 * OFFER flags. Returns 0 or -errno (fd closed on failure). */
int xfer_tx_open(struct xfer_tx *tx, int fd, const char *path, int algo,
                 uint8_t flags);
/* Handle the receiver's RESUME: 0 with confirm filled (offset 0), a code,
 * or XFER_PENDING when our prefix must be hashed (xfer_tx_step, then
 * xfer_tx_resume_finish). */
int xfer_tx_resume_start(struct xfer_tx *tx, const struct ibx_msg_resume *r,
                         struct ibx_msg_resume *confirm, char *why);
/* Hash up to budget bytes of the prefix: 1 done, 0 more, -errno. */
int xfer_tx_step(struct xfer_tx *tx, uint64_t budget);
/* Compare prefixes and fill the confirm. Returns 0 or a code (EXISTS
 * when an existing file differs and the offer had no OVERWRITE). */
int xfer_tx_resume_finish(struct xfer_tx *tx, struct ibx_msg_resume *confirm,
                          char *why);
/* The three above, blocking. */
int xfer_tx_resume(struct xfer_tx *tx, const struct ibx_msg_resume *r,
                   struct ibx_msg_resume *confirm, char *why);
/* Read and hash the next up to n bytes. Returns bytes (0 when done) or
 * -errno (-EIO if the file shrank). */
ssize_t xfer_tx_read(struct xfer_tx *tx, void *buf, size_t n);
/* Fill END once everything was read. Returns 0 or -EIO. */
int xfer_tx_end(struct xfer_tx *tx, struct ibx_msg_end *e);
/* Close and free. */
void xfer_tx_close(struct xfer_tx *tx);

/* ---- authentication (token.c; the handshake is ipcbox/frame_auth.h) -- */

/* Shortest token accepted, in bytes: a recorded handshake lets anyone
 * test guesses offline, so the token must be long and random
 * (`head -c 32 /dev/urandom | base64 > FILE` gives 44 bytes). */
#define XFER_TOKEN_MIN 16

/* A shared secret loaded from a --token-file (the HMAC key). */
struct xfer_token {
    uint8_t key[IBX_AUTH_TOKEN_MAX];
    size_t len;
};

/* Load path: a regular file that others (not owner, not group) can
 * neither read nor write, holding XFER_TOKEN_MIN..IBX_AUTH_TOKEN_MAX
 * bytes on one line (a trailing newline is dropped). Returns 0, or -1
 * with a one-line reason in err. */
int xfer_token_load(const char *path, struct xfer_token *t, char *err,
                    size_t size);
/* xfer_token_load for an applet's --token-file: on failure the reason is
 * printed as a usage error of applet and -1 returned (exit with
 * EXIT_USAGE). */
int xfer_token_load_cli(const char *applet, const char *path, struct xfer_token *t);
/* Overwrite the key in memory. */
void xfer_token_wipe(struct xfer_token *t);

/* What a client (send, get) requires of the server. */
struct xfer_auth {
    const struct xfer_token *token;     /* NULL: anonymous */
    bool allow_anonymous;   /* with a token: go on if the server has none */
};

/* True for a loopback (127.0.0.0/8, ::1, v4-mapped loopback) or
 * AF_UNIX address: only local users can reach it. */
bool xfer_addr_is_local(const struct sockaddr *sa);
/* Fill out[0..n) with random bytes (getrandom). Returns 0 or -errno. */
int xfer_random(uint8_t *out, size_t n);

/* ---- blocking frame I/O (clients) ---------------------------------- */

/* A blocking connection with SO_RCVTIMEO/SO_SNDTIMEO. */
struct xfer_wire {
    int fd;
    int timeout_ms;             /* silence allowed (socket timeouts) */
    uint32_t peer_data_max;     /* from the peer's HELLO */
    struct ibx_frame_dec dec;
    char err[XFER_WHY];         /* last failure, for the user */
};

/* Connect to text (HOST[:PORT]), set timeouts, exchange HELLO and, with
 * a token, authenticate both ways (auth may be NULL: anonymous). Returns
 * 0 or an exit code (err set). */
int xfer_wire_connect(struct xfer_wire *w, const char *text, int timeout_ms,
                      const struct xfer_auth *auth);
/* Write a whole buffer. Returns 0 or -errno. */
int xfer_wire_send(struct xfer_wire *w, const void *p, size_t n);
/* Read the next frame. For control frames *ev is IBX_FEV_FRAME with the
 * payload; for DATA, ev->kind is IBX_FEV_DATA with ev->len = payload
 * length and nothing read yet (take it with xfer_rx_pump and
 * ibx_frame_dec_skip). Returns 0, -ECONNRESET at EOF, or -errno. */
int xfer_wire_next(struct xfer_wire *w, struct ibx_frame_ev *ev);
/* xfer_wire_next for an answer the peer may first have to hash up to
 * `bytes` of a file for (a resume prefix, an existing file, the final
 * verification): the wait for the frame is extended by the time that
 * takes at XFER_SLOW_HASH_RATE. */
int xfer_wire_next_after_hash(struct xfer_wire *w, struct ibx_frame_ev *ev,
                              uint64_t bytes);
/* Send ERROR code text (best effort). */
void xfer_wire_error(struct xfer_wire *w, int code, const char *text);
/* After a failed write: read the ERROR (or ACK) the peer may have sent
 * before it closed, as "name: text" into out. Returns its code or -1. */
int xfer_wire_reason(struct xfer_wire *w, char *out, size_t size);
/* Close. */
void xfer_wire_close(struct xfer_wire *w);

/* The options send and get take alike (rows xfer_client_opts). */
struct xfer_client_cfg {
    int algo;               /* --hash */
    unsigned timeout;       /* --timeout, seconds */
    const char *token_file;
    bool allow_anonymous;
    bool no_progress;
};
/* Their rows (opt.h): --hash, --timeout, --token-file, --allow-anonymous,
 * --no-progress. */
extern const struct opt xfer_client_opts[];
/* The text after the options in send's and get's --help (progress). */
extern const char xfer_client_progress_help[];

/* What send and get, the two clients, have in common: the connection,
 * the progress display, and how a run ends (the worst exit code so far,
 * and whether the session is over). */
struct xfer_client {
    struct xfer_wire wire;
    struct progress prog;   /* the display (src/apps/progress.h) */
    const char *who;        /* "send" or "get": prefix of messages */
    const char *peer;       /* "receiver" or "server" */
    int exit_code;          /* worst so far */
    bool fatal;             /* the session is over */
};

/* Raise the exit code to code if that is worse. */
void xfer_client_worse(struct xfer_client *c, int code);
/* One file failed: "WHO: NAME: WHAT" on stderr (the progress line taken
 * off first), counted, exit code. */
void xfer_client_fail_file(struct xfer_client *c, const char *name,
                           int exit_code, const char *what);
/* A frame other than the expected one: an ACK or ERROR from the peer is
 * that file's refusal (ERROR also ends the session); anything else is a
 * protocol failure that ends the session. */
void xfer_client_unexpected(struct xfer_client *c, const char *name,
                            const struct ibx_frame_ev *ev);
/* The current file ended with result code (IBX_XC_*: OK counts as done,
 * UNCHANGED as skipped, others were counted by xfer_client_fail_file)
 * after resuming at resumed_from. */
void xfer_client_file_end(struct xfer_client *c, int code, uint64_t resumed_from);
/* The progress mode for --quiet and --no-progress. */
enum progress_mode xfer_progress_mode(bool quiet, bool no_progress);
/* Send an encoded frame of n bytes (n < 0: the encoder's -errno). */
int xfer_client_send(struct xfer_client *c, const uint8_t *b, ssize_t n);

#endif
