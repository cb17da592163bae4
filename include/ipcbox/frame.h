/* ipcbox framed messages: the wire codec of send/recv/get (see
 * docs/frame-protocol.md).
 *
 * Every frame is an 8-byte header followed by its payload:
 *
 *     u8 type | u8 flags (0) | u16 reserved (0) | u32 length (big-endian)
 *
 * The codec is pure: the encoders write into caller memory, the streaming
 * decoder takes the byte stream in pieces split anywhere and never
 * allocates. Control frames are collected whole in the decoder (at most
 * IBX_FRAME_CTRL_MAX bytes); DATA payload is handed out as it arrives,
 * pointing into the caller's input, so a receiver can also move it with
 * splice() and tell the decoder afterwards (ibx_frame_dec_skip).
 *
 * Functions return 0 (or a byte count) on success and -errno on failure:
 * -EMSGSIZE for a frame above the limit, -EPROTO for malformed input,
 * -ENOBUFS when an encoder's output space is too small. */
#ifndef IPCBOX_FRAME_H
#define IPCBOX_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Protocol version carried in HELLO: 1 is the base protocol (no
 * authentication), 2 adds the authenticated handshake (CHALLENGE, PROOF:
 * see ipcbox/frame_auth.h); everything after the handshake is the same. */
#define IBX_FRAME_VERSION 1
/* The version that authenticates (a peer holding a token speaks it). */
#define IBX_FRAME_VERSION_AUTH 2
/* HELLO flag (version 2 only): from a client, "I hold a token"; from a
 * server, "prove it: a CHALLENGE follows". */
#define IBX_HELLO_AUTH 0x0001
/* Magic at the start of a HELLO payload. */
#define IBX_FRAME_MAGIC "IBXF"
/* Bytes in a frame header. */
#define IBX_FRAME_HDR 8
/* Largest control (non-DATA) payload any peer sends or accepts. */
#define IBX_FRAME_CTRL_MAX 8192
/* Largest DATA payload the protocol allows (a HELLO may announce less). */
#define IBX_FRAME_DATA_MAX (16u << 20)
/* Smallest DATA maximum a HELLO may announce: below it a peer would
 * make the other side frame (and read) a file a few bytes at a time. */
#define IBX_FRAME_DATA_MIN 4096u
/* Longest relative path in OFFER, GET or LIST (bytes, no NUL). */
#define IBX_FRAME_PATH_MAX 4096
/* Longest text in ACK or ERROR. */
#define IBX_FRAME_TEXT_MAX 1024
/* Longest digest (SHA-256). */
#define IBX_FRAME_HASH_MAX 32

/* Frame types. */
enum ibx_frame_type {
    IBX_FT_HELLO = 0x01,   /* magic, version, largest DATA payload accepted */
    IBX_FT_OFFER = 0x02,   /* a file follows: path, size, mode, mtime, algo */
    IBX_FT_RESUME = 0x03,  /* offset to start at + hash of the prefix */
    IBX_FT_DATA = 0x04,    /* file bytes */
    IBX_FT_END = 0x05,     /* hash of the whole file */
    IBX_FT_ACK = 0x06,     /* per-file result: code + text */
    IBX_FT_GET = 0x07,     /* ask the server to send a file */
    IBX_FT_LIST = 0x08,    /* request (empty) or one listing entry */
    IBX_FT_ERROR = 0x09,   /* fatal for the session: code + text */
    IBX_FT_CHALLENGE = 0x0a, /* v2: server's nonce (frame_auth.h) */
    IBX_FT_PROOF = 0x0b,   /* v2: a side's nonce + HMAC (frame_auth.h) */
};

/* Hash algorithms (the digest is sent in canonical big-endian form). */
enum ibx_hash_algo {
    IBX_HASH_NONE = 0,
    IBX_HASH_XXH3 = 1,     /* XXH3-128, 16 bytes */
    IBX_HASH_SHA256 = 2,   /* SHA-256, 32 bytes */
};

/* Result codes in ACK and ERROR. Codes below 16 mean success. */
enum ibx_frame_code {
    IBX_XC_OK = 0,          /* committed */
    IBX_XC_UNCHANGED = 1,   /* identical file already there; nothing done */
    IBX_XC_BAD_NAME = 16,   /* unsafe or malformed path */
    IBX_XC_EXISTS = 17,     /* different file exists and no overwrite */
    IBX_XC_TOO_BIG = 18,    /* size above the receiver's --max-size */
    IBX_XC_MISMATCH = 19,   /* hash check failed; nothing committed */
    IBX_XC_IO = 20,         /* local I/O error on the peer */
    IBX_XC_BUSY = 21,       /* the same path is being transferred */
    IBX_XC_NOT_FOUND = 22,  /* GET of a missing file */
    IBX_XC_NOT_REGULAR = 23,/* path names a directory, device, ... */
    IBX_XC_PROTOCOL = 24,   /* unexpected or malformed frame */
    IBX_XC_VERSION = 25,    /* unsupported protocol version */
    IBX_XC_SHUTDOWN = 26,   /* peer is shutting down */
    IBX_XC_FRAME_SIZE = 27, /* frame above the announced maximum */
    IBX_XC_HASH_ALGO = 28,  /* unsupported hash algorithm */
    IBX_XC_AUTH = 29,       /* authentication required or failed */
};

/* OFFER and GET flag: replace an existing file with different content. */
#define IBX_OFFER_OVERWRITE 0x01
/* RESUME flag: the whole file already exists at the receiver; the hash
 * covers all of it (offset == size). */
#define IBX_RESUME_EXISTING 0x01

/* Digest length of algo, 0 if unknown. */
size_t ibx_hash_algo_len(int algo);
/* "xxh3", "sha256" or NULL. */
const char *ibx_hash_algo_name(int algo);
/* Parse "xxh3"/"xxh128" or "sha256". Returns the algo or -EINVAL. */
int ibx_hash_algo_parse(const char *s);
/* Short name of a result code ("ok", "mismatch" ...). */
const char *ibx_frame_code_name(int code);

/* A decoded frame header. */
struct ibx_frame_hdr {
    uint8_t type;
    uint32_t len;
};

/* Write a frame header for a payload of len bytes into out[8]. */
void ibx_frame_hdr_encode(uint8_t out[IBX_FRAME_HDR], uint8_t type,
                          uint32_t len);
/* Parse a header. Returns 0, -EPROTO (flags/reserved not zero, unknown
 * type) or -EMSGSIZE (len above IBX_FRAME_CTRL_MAX for a control frame,
 * above data_max or IBX_FRAME_DATA_MAX for DATA). */
int ibx_frame_hdr_decode(const uint8_t in[IBX_FRAME_HDR], uint32_t data_max,
                         struct ibx_frame_hdr *out);

/* ---- streaming decoder --------------------------------------------- */

/* What ibx_frame_decode produced. */
enum ibx_frame_ev_kind {
    IBX_FEV_NONE = 0,   /* consumed input, nothing complete yet */
    IBX_FEV_FRAME,      /* a whole control frame (payload in the decoder) */
    IBX_FEV_DATA,       /* a piece of DATA payload (points into the input) */
    IBX_FEV_DATA_END,   /* the current DATA frame is complete */
};

/* One decoder event. */
struct ibx_frame_ev {
    enum ibx_frame_ev_kind kind;
    uint8_t type;           /* frame type (FRAME, DATA, DATA_END) */
    const uint8_t *data;    /* payload (FRAME) or piece (DATA) */
    size_t len;             /* its length */
};

/* Decoder state; embed it and call ibx_frame_dec_init. */
struct ibx_frame_dec {
    uint32_t data_max;      /* largest DATA payload accepted */
    uint8_t hdr[IBX_FRAME_HDR];
    uint8_t hdr_have;
    bool in_payload;
    bool failed;            /* an error was returned; stays failed */
    struct ibx_frame_hdr cur;
    uint32_t have;          /* payload bytes of cur seen so far */
    uint8_t ctrl[IBX_FRAME_CTRL_MAX];
};

/* Reset dec; DATA frames above data_max (capped at IBX_FRAME_DATA_MAX)
 * are refused. */
void ibx_frame_dec_init(struct ibx_frame_dec *dec, uint32_t data_max);
/* Consume bytes from in[0..n) until one event is complete (or the input is
 * used up). Returns the bytes consumed (>= 0; ev->kind says what, if
 * anything, is complete) or -EPROTO / -EMSGSIZE; after an error every
 * call fails. Call again with the rest of the input until it returns 0
 * with IBX_FEV_NONE. An empty DATA frame yields only IBX_FEV_DATA_END. */
ssize_t ibx_frame_decode(struct ibx_frame_dec *dec, const void *in, size_t n,
                         struct ibx_frame_ev *ev);
/* DATA payload bytes still to come in the current frame (0 between
 * frames or inside a control frame). */
uint32_t ibx_frame_dec_data_left(const struct ibx_frame_dec *dec);
/* Account for n DATA payload bytes the caller moved itself (splice). n
 * must not exceed ibx_frame_dec_data_left(). Returns true when that ended
 * the frame (the caller then handles it as IBX_FEV_DATA_END). */
bool ibx_frame_dec_skip(struct ibx_frame_dec *dec, uint32_t n);
/* True when the decoder sits exactly between frames. */
bool ibx_frame_dec_idle(const struct ibx_frame_dec *dec);

/* ---- messages ------------------------------------------------------ */

/* HELLO payload. */
struct ibx_msg_hello {
    uint16_t version;
    uint32_t data_max;      /* largest DATA payload this side accepts */
    uint16_t flags;         /* IBX_HELLO_AUTH (version 2 only), else 0 */
};

/* OFFER payload, also a LIST entry (algo and flags unused there). The
 * path points into the decoded payload (not NUL-terminated). */
struct ibx_msg_offer {
    uint64_t size;
    uint32_t mode;          /* permission bits (07777) */
    int64_t mtime_sec;
    uint32_t mtime_nsec;
    uint8_t algo;
    uint8_t flags;          /* IBX_OFFER_* */
    const char *path;
    uint16_t path_len;
};

/* RESUME payload (receiver proposes, sender confirms). */
struct ibx_msg_resume {
    uint64_t offset;
    uint8_t flags;          /* IBX_RESUME_* */
    uint8_t algo;
    uint8_t hash_len;       /* 0 when offset is 0 */
    uint8_t hash[IBX_FRAME_HASH_MAX];
};

/* END payload. */
struct ibx_msg_end {
    uint8_t algo;
    uint8_t hash_len;
    uint8_t hash[IBX_FRAME_HASH_MAX];
};

/* ACK or ERROR payload; text points into the payload. */
struct ibx_msg_status {
    uint16_t code;
    const char *text;
    uint16_t text_len;
};

/* GET payload. */
struct ibx_msg_get {
    uint8_t flags;          /* IBX_OFFER_OVERWRITE */
    uint8_t algo;
    const char *path;
    uint16_t path_len;
};

/* Encoders write a whole frame (header + payload) to out[0..cap) and
 * return its length or -ENOBUFS / -EINVAL (field out of range). */
ssize_t ibx_msg_hello_encode(void *out, size_t cap,
                             const struct ibx_msg_hello *m);
/* OFFER (type IBX_FT_OFFER) or a LIST entry (type IBX_FT_LIST). */
ssize_t ibx_msg_offer_encode(void *out, size_t cap, uint8_t type,
                             const struct ibx_msg_offer *m);
/* RESUME frame. */
ssize_t ibx_msg_resume_encode(void *out, size_t cap,
                              const struct ibx_msg_resume *m);
/* END frame. */
ssize_t ibx_msg_end_encode(void *out, size_t cap, const struct ibx_msg_end *m);
/* ACK (IBX_FT_ACK) or ERROR (IBX_FT_ERROR) frame; text is cut at
 * IBX_FRAME_TEXT_MAX. */
ssize_t ibx_msg_status_encode(void *out, size_t cap, uint8_t type,
                              uint16_t code, const char *text);
/* GET frame. */
ssize_t ibx_msg_get_encode(void *out, size_t cap, const struct ibx_msg_get *m);
/* Empty LIST request frame. */
ssize_t ibx_msg_list_req_encode(void *out, size_t cap);

/* Decoders parse a control payload (from IBX_FEV_FRAME). Returns 0 or
 * -EPROTO (wrong length, bad magic, unknown algo, digest length not
 * matching its algo, control characters in text). HELLO: flags other
 * than IBX_HELLO_AUTH, or any flag with version 1, are -EPROTO. */
int ibx_msg_hello_decode(const uint8_t *p, size_t n, struct ibx_msg_hello *m);
/* OFFER or LIST entry (the path is not checked here: see
 * ibx_frame_path_check). */
int ibx_msg_offer_decode(const uint8_t *p, size_t n, struct ibx_msg_offer *m);
/* RESUME payload. */
int ibx_msg_resume_decode(const uint8_t *p, size_t n, struct ibx_msg_resume *m);
/* END payload. */
int ibx_msg_end_decode(const uint8_t *p, size_t n, struct ibx_msg_end *m);
/* ACK or ERROR payload. */
int ibx_msg_status_decode(const uint8_t *p, size_t n, struct ibx_msg_status *m);
/* GET payload. */
int ibx_msg_get_decode(const uint8_t *p, size_t n, struct ibx_msg_get *m);

/* Check a relative transfer path: non-empty, at most IBX_FRAME_PATH_MAX
 * bytes, '/'-separated components of 1..IBX_FRAME_NAME_MAX bytes, none
 * "." or "..", no leading '/', no empty component, no byte below 0x20,
 * no 0x7f (so no NUL), none of the reserved temporary form ".X.ibxpart".
 * Returns 0 or -EINVAL. Symlinks are the file
 * system's business: see the applets. */
int ibx_frame_path_check(const char *path, size_t len);
/* Longest path component accepted (room for the temporary name). */
#define IBX_FRAME_NAME_MAX 240

#pragma GCC visibility pop

#endif
