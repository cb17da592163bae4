/* ipcbox TFTP packet codec: RFC 1350 packets, RFC 2347 option
 * negotiation, RFC 2348 blksize, RFC 2349 timeout and tsize, RFC 7440
 * windowsize, and a streaming netascii translator.
 *
 * Everything here is pure: bytes in, result out, no I/O and no allocation.
 * Parsed packets point into the caller's buffer, which must outlive them.
 * Builders write into a caller buffer and return the packet length or
 * -ENOSPC / -EINVAL. */
#ifndef IPCBOX_TFTP_H
#define IPCBOX_TFTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Opcodes (RFC 1350, RFC 2347). */
enum ibx_tftp_op {
    IBX_TFTP_RRQ = 1,
    IBX_TFTP_WRQ = 2,
    IBX_TFTP_DATA = 3,
    IBX_TFTP_ACK = 4,
    IBX_TFTP_ERROR = 5,
    IBX_TFTP_OACK = 6,
};

/* Error codes carried by ERROR packets. */
enum ibx_tftp_errcode {
    IBX_TFTP_EUNDEF = 0,     /* not defined, see message */
    IBX_TFTP_ENOTFOUND = 1,  /* file not found */
    IBX_TFTP_EACCESS = 2,    /* access violation */
    IBX_TFTP_ENOSPACE = 3,   /* disk full or allocation exceeded */
    IBX_TFTP_EBADOP = 4,     /* illegal TFTP operation */
    IBX_TFTP_EBADID = 5,     /* unknown transfer ID */
    IBX_TFTP_EEXISTS = 6,    /* file already exists */
    IBX_TFTP_ENOUSER = 7,    /* no such user */
    IBX_TFTP_EOPTNEG = 8,    /* option negotiation refused (RFC 2347) */
};

/* Transfer modes ("mail" is obsolete and rejected by the parser). */
enum ibx_tftp_mode {
    IBX_TFTP_OCTET = 0,
    IBX_TFTP_NETASCII = 1,
};

/* Limits and defaults. */
#define IBX_TFTP_PORT 69               /* well-known port */
#define IBX_TFTP_BLKSIZE_DEFAULT 512   /* RFC 1350 */
#define IBX_TFTP_BLKSIZE_MIN 8         /* RFC 2348 */
#define IBX_TFTP_BLKSIZE_MAX 65464     /* RFC 2348 */
#define IBX_TFTP_TIMEOUT_MIN 1         /* seconds, RFC 2349 */
#define IBX_TFTP_TIMEOUT_MAX 255       /* seconds, RFC 2349 */
#define IBX_TFTP_WINDOW_MIN 1          /* RFC 7440 */
#define IBX_TFTP_WINDOW_MAX 65535      /* RFC 7440 */
#define IBX_TFTP_HDR 4                 /* DATA/ACK header bytes */
/* Largest packet: a DATA packet at the largest blksize. */
#define IBX_TFTP_PKT_MAX (IBX_TFTP_HDR + IBX_TFTP_BLKSIZE_MAX)
/* Unknown options kept per packet (the rest are counted, not kept). */
#define IBX_TFTP_MAX_UNKNOWN 8

/* Bits of struct ibx_tftp_opts.have. */
enum {
    IBX_TFTP_OPT_BLKSIZE = 1 << 0,
    IBX_TFTP_OPT_TIMEOUT = 1 << 1,
    IBX_TFTP_OPT_TSIZE = 1 << 2,
    IBX_TFTP_OPT_WINDOWSIZE = 1 << 3,
};

/* A name/value pair pointing into a packet (not NUL-terminated copies;
 * both are NUL-terminated in the packet itself). */
struct ibx_tftp_kv {
    const char *name;
    const char *value;
};

/* The options of a request or OACK. The parser sets a bit in have for each
 * known option whose value is a decimal number that fits in 64 bits; the
 * value is stored as sent (range checks are policy, left to the caller).
 * A known option with a malformed value sets its bit in bad instead. */
struct ibx_tftp_opts {
    unsigned have;
    unsigned bad;
    uint64_t blksize;
    uint64_t timeout;
    uint64_t tsize;
    uint64_t windowsize;
    unsigned n_unknown;                       /* how many were not known */
    struct ibx_tftp_kv unknown[IBX_TFTP_MAX_UNKNOWN];
};

/* A parsed packet. Which member is valid depends on op. */
struct ibx_tftp_pkt {
    enum ibx_tftp_op op;
    union {
        struct {                      /* RRQ, WRQ */
            const char *filename;     /* NUL-terminated inside the packet */
            size_t filename_len;
            enum ibx_tftp_mode mode;
            struct ibx_tftp_opts opts;
        } req;
        struct {                      /* DATA */
            uint16_t block;
            const uint8_t *data;
            size_t len;
        } data;
        struct {                      /* ACK */
            uint16_t block;
        } ack;
        struct {                      /* ERROR */
            uint16_t code;
            const char *msg;          /* NUL-terminated, or "" if absent */
        } error;
        struct ibx_tftp_opts oack;    /* OACK */
    } u;
};

/* Parse one datagram. Returns 0, -EPROTO for an unknown opcode, -EINVAL
 * for a malformed packet (truncated, missing terminator, bad mode, empty
 * filename, duplicate option). The result points into buf. A trailing
 * ERROR message without its NUL is accepted (several stacks send it). */
int ibx_tftp_parse(const void *buf, size_t len, struct ibx_tftp_pkt *out);

/* Build an RRQ or WRQ (op) for filename in mode, appending the options
 * whose bits are set in opts->have (opts may be NULL). Returns the
 * length, -EINVAL (bad op, empty filename) or -ENOSPC. */
int ibx_tftp_build_req(void *buf, size_t cap, enum ibx_tftp_op op,
                       const char *filename, enum ibx_tftp_mode mode,
                       const struct ibx_tftp_opts *opts);
/* Build an OACK carrying the options whose bits are set in opts->have.
 * Returns the length or -ENOSPC. */
int ibx_tftp_build_oack(void *buf, size_t cap, const struct ibx_tftp_opts *opts);
/* Write the 4-byte DATA header for block into buf (the payload follows at
 * buf + IBX_TFTP_HDR; fill it in place, e.g. with pread). Returns 4. */
int ibx_tftp_put_data_hdr(void *buf, uint16_t block);
/* Build a DATA packet copying len payload bytes. Returns the length or
 * -ENOSPC. */
int ibx_tftp_build_data(void *buf, size_t cap, uint16_t block,
                        const void *data, size_t len);
/* Build an ACK. Returns 4 or -ENOSPC. */
int ibx_tftp_build_ack(void *buf, size_t cap, uint16_t block);
/* Build an ERROR packet; the message is truncated to fit cap. Returns the
 * length or -ENOSPC (cap < 5). */
int ibx_tftp_build_error(void *buf, size_t cap, uint16_t code,
                         const char *msg);

/* Name of an opcode ("RRQ" ...), "?" if unknown. */
const char *ibx_tftp_op_name(unsigned op);
/* Name of a mode ("octet" or "netascii"). */
const char *ibx_tftp_mode_name(enum ibx_tftp_mode mode);

/* Map a 16-bit wire block number to the 64-bit block index closest to
 * ref (the nearest value within -32768..+32767 of ref, never below 0).
 * Block numbers wrap from 65535 to 0, so a transfer of more than 65535
 * blocks keeps a 64-bit count and compares through this. */
uint64_t ibx_tftp_block_index(uint64_t ref, uint16_t wire);

/* Streaming netascii translation state (zero-initialise). */
struct ibx_netascii {
    uint8_t pending;     /* encoder: second byte of a pair not yet written */
    bool has_pending;    /* encoder: pending is valid; decoder: saw a CR */
};

/* Encode local text to netascii: LF -> CR LF, CR -> CR NUL. Consumes
 * input and writes output until one runs out; a pair split by the end of
 * out is finished on the next call. *consumed gets the input bytes used.
 * Returns the bytes written to out. */
size_t ibx_netascii_encode(struct ibx_netascii *st, const uint8_t *in,
                           size_t inlen, size_t *consumed, uint8_t *out,
                           size_t outcap);
/* Decode netascii to local text: CR LF -> LF, CR NUL -> CR, a CR followed
 * by anything else is kept as is. A CR at the end of in is held in st.
 * out must have room for inlen + 1 bytes. Returns the bytes written. */
size_t ibx_netascii_decode(struct ibx_netascii *st, const uint8_t *in,
                           size_t inlen, uint8_t *out);
/* End of a netascii stream: writes a held CR (at most 1 byte) to out.
 * Returns the bytes written. */
size_t ibx_netascii_decode_end(struct ibx_netascii *st, uint8_t *out);

#pragma GCC visibility pop

#endif
