/* worker_protocol: framing and validation of the ferry <-> ferry-worker
 * messages; shared by both programs (GLib only, no libpurple). See
 * include/ferry/worker_protocol.h for the catalogue. */
#include "config.h"
#include "ferry/worker_protocol.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

G_DEFINE_QUARK(ferry-worker-protocol-error-quark, worker_protocol_error);

#define WIRE_FIELD(kind, member) WORKER_WIRE_##kind
#define PAYLOAD_CASE(NAME, number, name, fields)                                                   \
	case WORKER_##NAME:                                                                        \
		return "(" fields ")";
#define NAME_CASE(NAME, number, name, fields)                                                      \
	case WORKER_##NAME:                                                                        \
		return #name;

const char *worker_msg_payload_type(guint32 type)
{
	switch (type) {
		WORKER_MESSAGES(PAYLOAD_CASE, WIRE_FIELD)
	default:
		return NULL;
	}
}

const char *worker_msg_name(guint32 type)
{
	switch (type) {
		WORKER_MESSAGES(NAME_CASE, WORKER_NO_FIELD_)
	default:
		return "unknown";
	}
}

/* Frees a buffer after overwriting it: frames can carry passwords. */
static void wipe_free(gpointer data, gsize len)
{
	memset(data, 0, len);
	g_free(data);
}

struct wipe_block {
	gpointer data;
	gsize len;
};

static void wipe_block_free(gpointer p)
{
	struct wipe_block *b = p;
	wipe_free(b->data, b->len);
	g_free(b);
}

static GBytes *bytes_take_wiped(gpointer data, gsize len)
{
	struct wipe_block *b = g_new(struct wipe_block, 1);
	b->data = data;
	b->len = len;
	return g_bytes_new_with_free_func(data, len, wipe_block_free, b);
}

GBytes *worker_wiped_bytes_new(const void *data, gsize len)
{
	gpointer copy = g_malloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(copy, data, len);
	return bytes_take_wiped(copy, len);
}

/* A frame body is the GVariant "(uuv)" (type, account, payload) in normal
 * form. It is laid out here by hand, byte for byte what GVariant itself
 * would write and accept (host byte order, as GVariant's own): the two
 * guint32 at offsets 0 and 4, then the variant at offset 8 -- the payload's
 * serialized data, a zero byte, its type string. Building and parsing the
 * outer tuple through GVariant cost a type lookup under a global lock and
 * a tree of values for every frame. */
#define BODY_HEAD 8

GBytes *worker_frame_encode(guint32 type, guint32 account, GVariant *payload)
{
	const char *want = worker_msg_payload_type(type);
	g_variant_ref_sink(payload);
	if (want == NULL || !g_variant_is_of_type(payload, G_VARIANT_TYPE(want))) {
		g_critical("worker_frame_encode: payload %s does not fit message %u",
		           g_variant_get_type_string(payload), type);
		g_variant_unref(payload);
		return NULL;
	}
	gsize size = g_variant_get_size(payload);
	gsize tlen = strlen(want);
	gsize n = BODY_HEAD + size + 1 + tlen;
	if (n > WORKER_MAX_FRAME) {
		/* The reader at the other end would take it for a broken
		 * stream (and a worker quit on it, again at every retry): the
		 * frame is never written. Senders that can answer someone check
		 * first (WORKER_MAX_IM_BYTES). */
		g_warning("worker protocol: %s for account %u would be a frame of %zu bytes, over "
		          "the limit of %d: not sent",
		          worker_msg_name(type), account, n, WORKER_MAX_FRAME);
		g_variant_unref(payload);
		return NULL;
	}
	/* GVariant serializes only to 8-byte aligned memory: the body goes at
	 * offset 8 (the payload at 16), the length prefix right before it, and
	 * the frame is the slice from offset 4. */
	guint8 *buf = g_malloc(n + 8);
	memset(buf, 0, 4);
	buf[4] = (guint8)(n >> 24);
	buf[5] = (guint8)(n >> 16);
	buf[6] = (guint8)(n >> 8);
	buf[7] = (guint8)n;
	memcpy(buf + 8, &type, 4);
	memcpy(buf + 12, &account, 4);
	g_variant_store(payload, buf + 8 + BODY_HEAD);
	buf[8 + BODY_HEAD + size] = 0;
	memcpy(buf + 8 + BODY_HEAD + size + 1, want, tlen);
	g_variant_unref(payload);
	GBytes *whole = bytes_take_wiped(buf, n + 8);
	GBytes *frame = g_bytes_new_from_bytes(whole, 4, n + 4);
	g_bytes_unref(whole);
	return frame;
}

/* The guint32 at OFFSET of FRAME's body (after the 4-byte length): the
 * type at 0, the account at 4. */
static guint32 frame_head(GBytes *frame, gsize offset)
{
	guint32 v = 0;
	gsize n = 0;
	const guint8 *p = g_bytes_get_data(frame, &n);
	g_return_val_if_fail(n >= 4 + BODY_HEAD, 0);
	memcpy(&v, p + 4 + offset, 4);
	return v;
}

guint32 worker_frame_type(GBytes *frame)
{
	return frame_head(frame, 0);
}

guint32 worker_frame_account(GBytes *frame)
{
	return frame_head(frame, 4);
}

static bool frame_error(GError **error, int code, const char *what)
{
	g_set_error(error, WORKER_PROTOCOL_ERROR, code, "%s", what);
	return false;
}

bool worker_frame_decode(GBytes *body, guint32 *type, guint32 *account, GVariant **payload,
                         GError **error)
{
	gsize n = 0;
	const guint8 *p = g_bytes_get_data(body, &n);
	/* the variant: data, a zero byte, a type string of at least one
	 * character; the type string cannot hold a zero byte, so the last one
	 * separates them */
	if (p == NULL || n < BODY_HEAD + 2)
		return frame_error(error, WORKER_PROTOCOL_ERROR_FRAME,
		                   "frame is not a (uuv) in normal form");
	gsize zero = n;
	while (zero > BODY_HEAD && p[zero - 1] != 0)
		zero--;
	if (zero == BODY_HEAD || zero == n)
		return frame_error(error, WORKER_PROTOCOL_ERROR_FRAME,
		                   "frame is not a (uuv) in normal form");
	zero--; /* index of the separator */
	memcpy(type, p, 4);
	memcpy(account, p + 4, 4);
	const char *typestr = (const char *)p + zero + 1;
	gsize tlen = n - zero - 1;
	const char *want = worker_msg_payload_type(*type);
	if (want == NULL) {
		g_set_error(error, WORKER_PROTOCOL_ERROR, WORKER_PROTOCOL_ERROR_TYPE,
		            "unknown message type %u", *type);
		return false;
	}
	if (tlen != strlen(want) || memcmp(typestr, want, tlen) != 0) {
		g_autofree char *got = g_strndup(typestr, tlen);
		if (!g_variant_type_string_is_valid(got))
			return frame_error(error, WORKER_PROTOCOL_ERROR_FRAME,
			                   "frame is not a (uuv) in normal form");
		g_set_error(error, WORKER_PROTOCOL_ERROR, WORKER_PROTOCOL_ERROR_PAYLOAD,
		            "message %s carries %s, not %s", worker_msg_name(*type), got, want);
		return false;
	}
	g_autoptr(GBytes) data = g_bytes_new_from_bytes(body, BODY_HEAD, zero - BODY_HEAD);
	GVariant *inner =
	    g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(want), data, FALSE));
	if (!g_variant_is_normal_form(inner)) {
		g_variant_unref(inner);
		return frame_error(error, WORKER_PROTOCOL_ERROR_FRAME,
		                   "frame is not a (uuv) in normal form");
	}
	*payload = inner;
	return true;
}

struct worker_reader {
	GByteArray *buf;
	size_t off; /* bytes of buf already consumed */
};

struct worker_reader *worker_reader_new(void)
{
	struct worker_reader *r = g_new0(struct worker_reader, 1);
	r->buf = g_byte_array_new();
	return r;
}

void worker_reader_free(struct worker_reader *r)
{
	if (r == NULL)
		return;
	if (r->buf->len > 0)
		memset(r->buf->data, 0, r->buf->len);
	g_byte_array_unref(r->buf);
	g_free(r);
}

void worker_reader_feed(struct worker_reader *r, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (r->off > 0 && r->off == r->buf->len) {
		memset(r->buf->data, 0, r->buf->len);
		g_byte_array_set_size(r->buf, 0);
		r->off = 0;
	} else if (r->off > 64 * 1024) {
		memset(r->buf->data, 0, r->off);
		g_byte_array_remove_range(r->buf, 0, (guint)r->off);
		r->off = 0;
	}
	g_byte_array_append(r->buf, data, (guint)len);
}

GBytes *worker_reader_next(struct worker_reader *r, GError **error)
{
	size_t avail = r->buf->len - r->off;
	if (avail < 4)
		return NULL;
	const guint8 *p = r->buf->data + r->off;
	guint32 n = ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
	if (n == 0 || n > WORKER_MAX_FRAME) {
		g_set_error(error, WORKER_PROTOCOL_ERROR, WORKER_PROTOCOL_ERROR_FRAME,
		            "frame length %u out of range", n);
		return NULL;
	}
	if (avail < 4 + (size_t)n)
		return NULL;
	guint8 *body = g_malloc(n);
	memcpy(body, p + 4, n);
	r->off += 4 + (size_t)n;
	return bytes_take_wiped(body, n);
}

/* ---- frame queue ---------------------------------------------------------- */

#define MAX_IOV 64

void frame_queue_push(struct frame_queue *q, GBytes *frame)
{
	q->bytes += g_bytes_get_size(frame);
	g_queue_push_tail(&q->frames, frame);
}

gssize frame_queue_send(struct frame_queue *q, int fd)
{
	struct iovec iov[MAX_IOV];
	int n_iov = 0;
	gsize off = q->offset;
	for (GList *l = q->frames.head; l != NULL && n_iov < MAX_IOV; l = l->next) {
		gsize len = 0;
		const guint8 *p = g_bytes_get_data(l->data, &len);
		iov[n_iov].iov_base = (void *)(p + off);
		iov[n_iov].iov_len = len - off;
		n_iov++;
		off = 0;
	}
	if (n_iov == 0)
		return 0;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n_iov};
	ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return -1;
	q->bytes -= (gsize)n;
	size_t done = (size_t)n;
	while (done > 0) {
		gsize len = 0;
		(void)g_bytes_get_data(g_queue_peek_head(&q->frames), &len);
		size_t left = len - q->offset;
		if (done < left) {
			q->offset += done;
			break;
		}
		done -= left;
		q->offset = 0;
		g_bytes_unref(g_queue_pop_head(&q->frames));
	}
	return n;
}

void frame_queue_clear(struct frame_queue *q)
{
	g_queue_clear_full(&q->frames, (GDestroyNotify)g_bytes_unref);
	q->offset = q->bytes = 0;
}
