/* In-kernel protocol inference over the captured prefix of one syscall's bytes. Returns the
 * protocol and whether the bytes start a request or a response (for role inference). */
#ifndef SOCKEYE_PROTOCOL_INFERENCE_H
#define SOCKEYE_PROTOCOL_INFERENCE_H

#include "event-layout.h"

#define MSG_UNKNOWN 0
#define MSG_REQUEST 1
#define MSG_RESPONSE 2

struct verdict {
	__u8 protocol;
	__u8 message;
};

static __always_inline bool starts(const __u8 *p, const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] != (__u8)s[i])
			return false;
	return true;
}

static __always_inline bool http1_request(const __u8 *p, __u32 n)
{
	if (n < 8)
		return false;
	switch (p[0]) {
	case 'G': return starts(p, "GET ", 4);
	case 'P': return starts(p, "POST ", 5) || starts(p, "PUT ", 4) || starts(p, "PATCH ", 6);
	case 'H': return starts(p, "HEAD ", 5);
	case 'D': return starts(p, "DELETE ", 7);
	case 'O': return starts(p, "OPTIONS ", 8);
	case 'C': return starts(p, "CONNECT ", 8);
	case 'T': return starts(p, "TRACE ", 6);
	}
	return false;
}

static __always_inline bool http1_response(const __u8 *p, __u32 n)
{
	return n >= 12 && starts(p, "HTTP/1.", 7) && (p[7] == '0' || p[7] == '1') && p[8] == ' ' &&
	       p[9] >= '1' && p[9] <= '5';
}

/* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n": sent only by a client. */
static __always_inline bool http2_preface(const __u8 *p, __u32 n)
{
	return n >= 24 && starts(p, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
}

/* A syscall that starts with a plausible HTTP/2 frame header: for connections picked up after
 * their preface. Strict per-type rules keep random bytes from matching (~1 in 10^6). */
static __always_inline bool http2_frame(const __u8 *p, __u32 n, __u32 total)
{
	if (n < 9)
		return false;
	__u32 len = ((__u32)p[0] << 16) | ((__u32)p[1] << 8) | p[2];
	__u8 type = p[3], flags = p[4];
	if (p[5] & 0x80)
		return false;
	__u32 stream = ((__u32)p[5] << 24) | ((__u32)p[6] << 16) | ((__u32)p[7] << 8) | p[8];
	if (len > 16384 || len + 9 > total)
		return false;
	switch (type) {
	case 0: /* DATA */
		return stream != 0 && !(flags & ~0x09);
	case 1: /* HEADERS */
		return stream != 0 && !(flags & ~0x2d) && len > 0;
	case 3: /* RST_STREAM */
		return stream != 0 && flags == 0 && len == 4;
	case 4: /* SETTINGS */
		return stream == 0 && !(flags & ~0x01) && len % 6 == 0 && (!(flags & 1) || len == 0);
	case 6: /* PING */
		return stream == 0 && !(flags & ~0x01) && len == 8;
	case 7: /* GOAWAY */
		return stream == 0 && flags == 0 && len >= 8;
	case 8: /* WINDOW_UPDATE */
		return flags == 0 && len == 4;
	}
	return false;
}

/* Request or response from the first header field of a HEADERS frame at the start of the bytes:
 * every HTTP/2 message starts with its pseudo-headers, and HPACK's static table puts the request
 * ones (:authority, :method, :path, :scheme) at indexes 1-7 and :status at 8-14. This gives the role
 * of connections picked up mid-stream, where the preface was never seen. */
static __always_inline __u8 http2_headers_kind(const __u8 *p, __u32 n)
{
	if (n < 16 || p[3] != 1)
		return MSG_UNKNOWN;
	__u8 flags = p[4];
	__u32 at = 9;
	if (flags & 0x08) /* PADDED: pad length byte */
		at += 1;
	if (flags & 0x20) /* PRIORITY: dependency + weight */
		at += 5;
	__u8 b = p[at & 15];
	__u8 index;
	if (b & 0x80)
		index = b & 0x7f;      /* indexed field */
	else if (b & 0x40)
		index = b & 0x3f;      /* literal, incremental indexing */
	else if ((b & 0xe0) == 0)
		index = b & 0x0f;      /* literal without / never indexed */
	else
		return MSG_UNKNOWN;    /* dynamic table size update */
	if (index >= 1 && index <= 7)
		return MSG_REQUEST;
	if (index >= 8 && index <= 14)
		return MSG_RESPONSE;
	return MSG_UNKNOWN;
}

/* DNS by header sanity on any port (UDP datagrams; TCP after its length prefix). */
static __always_inline struct verdict dns_message(const __u8 *p, __u32 n, __u32 total)
{
	struct verdict v = {};
	if (n < 17 || total > 4096)
		return v;
	__u16 flags = ((__u16)p[2] << 8) | p[3];
	__u16 qd = ((__u16)p[4] << 8) | p[5];
	__u16 an = ((__u16)p[6] << 8) | p[7];
	__u16 ns = ((__u16)p[8] << 8) | p[9];
	__u16 ar = ((__u16)p[10] << 8) | p[11];
	bool response = flags & 0x8000;
	__u8 opcode = (flags >> 11) & 0xf;
	__u8 rcode = flags & 0xf;
	if (opcode != 0 || (flags & 0x0040) || qd != 1 || p[12] > 63 || ns > 64 || ar > 64 || an > 128)
		return v;
	if (!response && (an != 0 || ns != 0 || rcode != 0 || ar > 2))
		return v;
	if (rcode > 10)
		return v;
	v.protocol = SOCKEYE_PROTO_DNS;
	v.message = response ? MSG_RESPONSE : MSG_REQUEST;
	return v;
}

/* DNS over TCP (RFC 1035 4.2.2): a 2-byte length, then the same header checks as UDP. Tried last on
 * TCP, after HTTP, so only a stream whose first bytes pass the whole header sanity check matches. */
static __always_inline struct verdict dns_tcp_message(const __u8 *p, __u32 n)
{
	struct verdict v = {};
	if (n < 19)
		return v;
	__u16 len = ((__u16)p[0] << 8) | p[1];
	if (len < 17)
		return v;
	return dns_message(p + 2, n - 2, 0);
}

static __always_inline struct verdict infer(const __u8 *p, __u32 n, __u32 total, __u8 transport)
{
	struct verdict v = {};
	if (transport == IPPROTO_UDP)
		return dns_message(p, n, total);
	if (http1_request(p, n)) {
		v.protocol = SOCKEYE_PROTO_HTTP1;
		v.message = MSG_REQUEST;
	} else if (http1_response(p, n)) {
		v.protocol = SOCKEYE_PROTO_HTTP1;
		v.message = MSG_RESPONSE;
	} else if (http2_preface(p, n)) {
		v.protocol = SOCKEYE_PROTO_HTTP2;
		v.message = MSG_REQUEST;
	} else if (http2_frame(p, n, total)) {
		v.protocol = SOCKEYE_PROTO_HTTP2;
		v.message = http2_headers_kind(p, n);
	} else {
		v = dns_tcp_message(p, n);
	}
	return v;
}

/* Message type of a chunk on a connection whose protocol is already known (role inference). */
static __always_inline __u8 message_kind(__u8 protocol, const __u8 *p, __u32 n, __u32 total, __u8 transport)
{
	if (protocol == SOCKEYE_PROTO_DNS && transport == IPPROTO_TCP)
		return dns_tcp_message(p, n).message;
	if (protocol == SOCKEYE_PROTO_HTTP1)
		return http1_request(p, n) ? MSG_REQUEST : http1_response(p, n) ? MSG_RESPONSE : MSG_UNKNOWN;
	if (protocol == SOCKEYE_PROTO_DNS)
		return dns_message(p, n, total).message;
	if (protocol == SOCKEYE_PROTO_HTTP2)
		return http2_preface(p, n) ? MSG_REQUEST : http2_headers_kind(p, n);
	return MSG_UNKNOWN;
}

#endif
