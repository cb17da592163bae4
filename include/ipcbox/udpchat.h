/* ipcbox udpchat datagram codec: the wire format of `ipcbox udpchat`, a
 * serverless chat over UDP unicast, broadcast and multicast.
 *
 * One datagram is one message, a presence announcement or a leave notice
 * (integers big-endian):
 *
 *   offset  size  field
 *   0       2     magic "UC" (0x55 0x43)
 *   2       1     version, IBX_UDPCHAT_VERSION (1)
 *   3       1     type: 1 message, 2 presence, 3 leave
 *   4       8     sender id: random per run, never 0
 *   12      4     sequence number: per sender, +1 per datagram (any type)
 *   16      1     nick length N, 1..IBX_UDPCHAT_NICK_MAX
 *   17      N     nick (ibx_udpchat_nick_valid)
 *   17+N          body, by type:
 *                   message:  the text, the rest of the datagram:
 *                             1..IBX_UDPCHAT_TEXT_MAX bytes of well-formed
 *                             UTF-8 without NUL (other control characters
 *                             are allowed: receivers neutralise them)
 *                   presence: 4 bytes, the sender's announcement interval
 *                             in ms, IBX_UDPCHAT_INTERVAL_MIN..MAX
 *                   leave:    nothing
 *
 * Nothing may follow the body, and a datagram is never longer than
 * IBX_UDPCHAT_MAX bytes. A change of any of this is a new version.
 *
 * Everything here is pure: bytes in, result out, no I/O, no allocation.
 * Decoded nick and text point into the caller's buffer (they are not
 * NUL-terminated). */
#ifndef IPCBOX_UDPCHAT_H
#define IPCBOX_UDPCHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* The version this codec reads and writes. */
#define IBX_UDPCHAT_VERSION 1
/* Largest datagram, bytes: fits an IPv6 minimum MTU with room to spare. */
#define IBX_UDPCHAT_MAX 1200
/* Fixed header before the nick, bytes. */
#define IBX_UDPCHAT_HDR 17
/* Longest nick, bytes. */
#define IBX_UDPCHAT_NICK_MAX 32
/* Longest message text, bytes. */
#define IBX_UDPCHAT_TEXT_MAX 1024
/* Range of the announced presence interval, ms. */
#define IBX_UDPCHAT_INTERVAL_MIN 100u
#define IBX_UDPCHAT_INTERVAL_MAX 3600000u
/* Default UDP port, and the default IPv4 and IPv6 multicast groups
 * (administratively scoped 239.255/16; IPv6 link-local scope). */
#define IBX_UDPCHAT_PORT 6767
#define IBX_UDPCHAT_GROUP4 "239.255.67.67"
#define IBX_UDPCHAT_GROUP6 "ff02::6767"

/* Datagram types. */
enum ibx_udpchat_type {
    IBX_UDPCHAT_MESSAGE = 1,
    IBX_UDPCHAT_PRESENCE = 2,
    IBX_UDPCHAT_LEAVE = 3,
};

/* One datagram. nick and text point into the decoded buffer (or, for
 * encoding, into the caller's strings); neither is NUL-terminated. */
struct ibx_udpchat_pkt {
    enum ibx_udpchat_type type;
    uint64_t sender;          /* never 0 */
    uint32_t seq;
    const char *nick;
    size_t nick_len;
    const char *text;         /* message: the text; NULL otherwise */
    size_t text_len;
    uint32_t interval_ms;     /* presence: the announcement interval */
};

/* Decode one datagram of len bytes. Returns 0; -EMSGSIZE when len is over
 * IBX_UDPCHAT_MAX; -EPROTONOSUPPORT for another version (right magic);
 * -EINVAL for anything else malformed (wrong magic, unknown type, sender
 * 0, a bad nick or text, an interval out of range, a short or long body). */
int ibx_udpchat_decode(const void *buf, size_t len, struct ibx_udpchat_pkt *out);

/* Encode p into buf (cap bytes). Everything the decoder checks is checked
 * first, so what is encoded decodes to p. Returns the length, -EINVAL for
 * a field the decoder would refuse, or -ENOSPC when cap is too small. */
int ibx_udpchat_encode(void *buf, size_t cap, const struct ibx_udpchat_pkt *p);

/* Length of the longest prefix of the len bytes at s that is well-formed
 * UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) and
 * holds no NUL: len when all of it is. */
size_t ibx_udpchat_utf8_span(const void *s, size_t len);

/* True when the len bytes at s are a valid nick: 1..IBX_UDPCHAT_NICK_MAX
 * bytes of well-formed UTF-8 with no space, no '@', no control character
 * (C0, DEL, C1) and none of the invisible or reordering characters that
 * would let one nick pass for another (zero-width U+200B..U+200F, line
 * and paragraph separators, bidirectional overrides and isolates
 * U+202A..U+202E and U+2066..U+2069, U+FEFF). */
bool ibx_udpchat_nick_valid(const char *s, size_t len);

/* Name of a type ("message", "presence", "leave"), "?" if unknown. */
const char *ibx_udpchat_type_name(unsigned type);

#pragma GCC visibility pop

#endif
