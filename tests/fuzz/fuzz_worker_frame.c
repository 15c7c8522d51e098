/* libFuzzer target for the worker protocol's decoder (worker_protocol.c)
 * and typed codec (worker_msgs.c): what ferry reads from a worker that
 * libpurple may have compromised, and what a worker reads from ferry.
 *
 * The first byte picks the mode:
 *  - even: a byte stream. The rest is fed to a worker_reader in chunks
 *    whose sizes come from the data; every frame it yields is decoded.
 *  - odd: one payload. The second byte picks a message of the catalogue;
 *    the rest is taken as that message's serialized payload and wrapped in
 *    a frame body with the right type string, so the mutations reach each
 *    payload decoder instead of dying at the type check.
 * A decoded frame is dispatched to a handler per message, which checks the
 * promises of worker_msgs.h: text fields are valid UTF-8, and encoding the
 * decoded message gives a frame that decodes to the same message -- byte
 * for byte the same frame, unless a dictionary is in it (a hash table
 * keeps neither the wire order nor a repeated key). A frame the decoder
 * refuses must come with a WORKER_PROTOCOL_ERROR. Any broken promise
 * aborts.
 */
#include "config.h"
#include "ferry/worker_msgs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_FRAMES 64

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* ---- one member, by kind: its promise, and equality after a round trip -- */

static void valid_STR(const char *v)
{
	check(v != NULL && g_utf8_validate(v, -1, NULL));
}

static void valid_SECRET(const char *v)
{
	valid_STR(v);
}

static void valid_U32(guint32 v)
{
	(void)v;
}

static void valid_BOOL(bool v)
{
	check(v == true || v == false);
}

static void valid_I64(gint64 v)
{
	(void)v;
}

static void valid_DICT(GHashTable *v)
{
	check(v != NULL);
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, v);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		valid_STR(key);
		valid_STR(value);
	}
}

static void valid_FORM(GPtrArray *v)
{
	check(v != NULL);
	for (guint i = 0; i < v->len; i++)
		valid_DICT(g_ptr_array_index(v, i));
}

static void same_STR(const char *a, const char *b)
{
	check(strcmp(a, b) == 0);
}

static void same_SECRET(const char *a, const char *b)
{
	same_STR(a, b);
}

static void same_U32(guint32 a, guint32 b)
{
	check(a == b);
}

static void same_BOOL(bool a, bool b)
{
	check(a == b);
}

static void same_I64(gint64 a, gint64 b)
{
	check(a == b);
}

static void same_DICT(GHashTable *a, GHashTable *b)
{
	check(g_hash_table_size(a) == g_hash_table_size(b));
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, a);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		const char *other = g_hash_table_lookup(b, key);
		check(other != NULL && strcmp(other, value) == 0);
	}
}

static void same_FORM(GPtrArray *a, GPtrArray *b)
{
	check(a->len == b->len);
	for (guint i = 0; i < a->len; i++)
		same_DICT(g_ptr_array_index(a, i), g_ptr_array_index(b, i));
}

/* ---- per message ---------------------------------------------------------- */

struct seen {
	GBytes *body;   /* the frame body being dispatched */
	guint32 type;   /* its message type */
	int dispatched; /* handler calls */
};

/* Decodes FRAME (length prefix included) and checks its prefix. */
static GVariant *decode_frame(GBytes *frame, guint32 want_type, guint32 want_account)
{
	gsize n = 0;
	const guint8 *p = g_bytes_get_data(frame, &n);
	check(n > 4);
	guint32 len = ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
	check(len + 4 == n && len <= WORKER_MAX_FRAME);
	check(worker_frame_type(frame) == want_type);
	check(worker_frame_account(frame) == want_account);
	g_autoptr(GBytes) body = g_bytes_new_from_bytes(frame, 4, n - 4);
	guint32 type = 0, account = 0;
	GVariant *payload = NULL;
	GError *error = NULL;
	check(worker_frame_decode(body, &type, &account, &payload, &error));
	check(error == NULL && type == want_type && account == want_account);
	return payload;
}

/* The frame body of FRAME equals BODY. */
static bool same_body(GBytes *frame, GBytes *body)
{
	gsize n = 0, m = 0;
	const guint8 *p = g_bytes_get_data(frame, &n);
	const guint8 *q = g_bytes_get_data(body, &m);
	return n == m + 4 && memcmp(p + 4, q, m) == 0;
}

#define IS_DICT_STR 0
#define IS_DICT_SECRET 0
#define IS_DICT_U32 0
#define IS_DICT_BOOL 0
#define IS_DICT_I64 0
#define IS_DICT_DICT 1
#define IS_DICT_FORM 1
#define HAS_DICT_(kind, member) || IS_DICT_##kind
#define VALID_(kind, member) valid_##kind(msg->member);
#define SAME_(kind, member) same_##kind(msg->member, again.member);

/* Per message, from the catalogue: its members' promises (valid_NAME),
 * whether it holds a dictionary (has_dict_NAME), the members' equality
 * after a round trip (same_NAME), and the handler that runs them. */
#define HANDLER_VALID_(NAME, number, name, fields)                                                 \
	static void valid_##name(const struct worker_msg_##name *msg)                              \
	{                                                                                          \
		(void)msg;                                                                         \
		fields                                                                             \
	}
WORKER_MESSAGES(HANDLER_VALID_, VALID_)

#define HANDLER_HAS_DICT_(NAME, number, name, fields)                                              \
	static bool has_dict_##name(void)                                                          \
	{                                                                                          \
		return 0 fields;                                                                   \
	}
WORKER_MESSAGES(HANDLER_HAS_DICT_, HAS_DICT_)

#define HANDLER_SAME_(NAME, number, name, fields)                                                  \
	static void same_##name(const struct worker_msg_##name *msg,                               \
	                        const struct worker_msg_##name *again_)                            \
	{                                                                                          \
		const struct worker_msg_##name again = *again_;                                    \
		(void)msg;                                                                         \
		(void)again;                                                                       \
		fields                                                                             \
	}
WORKER_MESSAGES(HANDLER_SAME_, SAME_)

#define HANDLER_ON_(NAME, number, name, fields)                                                    \
	static void on_##name(void *data, const struct worker_msg_##name *msg)                     \
	{                                                                                          \
		struct seen *seen = data;                                                          \
		check(seen->type == WORKER_##NAME);                                                \
		seen->dispatched++;                                                                \
		valid_##name(msg);                                                                 \
		GBytes *frame = worker_msg_##name##_frame(msg);                                    \
		check(frame != NULL);                                                              \
		if (!has_dict_##name())                                                            \
			check(same_body(frame, seen->body));                                       \
		GVariant *payload = decode_frame(frame, WORKER_##NAME, msg->account);              \
		struct worker_msg_##name again;                                                    \
		check(worker_msg_##name##_read(payload, msg->account, &again));                    \
		check(again.account == msg->account);                                              \
		same_##name(msg, &again);                                                          \
		worker_msg_##name##_clear(&again);                                                 \
		g_variant_unref(payload);                                                          \
		g_bytes_unref(frame);                                                              \
	}
WORKER_MESSAGES(HANDLER_ON_, WORKER_NO_FIELD_)

#define HANDLER_ENTRY_(NAME, number, name, fields) .name = on_##name,
static const struct worker_msg_handlers handlers = {
    WORKER_MESSAGES(HANDLER_ENTRY_, WORKER_NO_FIELD_)};

#define TYPE_ENTRY_(NAME, number, name, fields) WORKER_##NAME,
static const guint32 catalogue[] = {WORKER_MESSAGES(TYPE_ENTRY_, WORKER_NO_FIELD_)};

/* ---- frames ----------------------------------------------------------------- */

static void decode_body(GBytes *body)
{
	guint32 type = 0, account = 0;
	GVariant *payload = NULL;
	GError *error = NULL;
	if (!worker_frame_decode(body, &type, &account, &payload, &error)) {
		check(error != NULL && error->domain == WORKER_PROTOCOL_ERROR);
		check(error->message != NULL && g_utf8_validate(error->message, -1, NULL));
		g_error_free(error);
		return;
	}
	check(error == NULL && payload != NULL);
	check(worker_msg_payload_type(type) != NULL);
	check(g_variant_is_of_type(payload, G_VARIANT_TYPE(worker_msg_payload_type(type))));
	check(g_variant_is_normal_form(payload));
	struct seen seen = {.body = body, .type = type};
	check(worker_msg_dispatch(&handlers, &seen, type, account, payload));
	check(seen.dispatched == 1);
	g_variant_unref(payload);
}

static void fuzz_stream(const uint8_t *data, size_t size)
{
	struct worker_reader *reader = worker_reader_new();
	size_t pos = 0;
	int frames = 0;
	while (pos < size && frames < FUZZ_MAX_FRAMES) {
		/* The chunk size: the byte at POS (1..256), then the chunk. */
		size_t n = MIN((size_t)data[pos] + 1, size - pos - 1);
		pos++;
		worker_reader_feed(reader, data + pos, n);
		pos += n;
		for (;;) {
			GError *error = NULL;
			GBytes *body = worker_reader_next(reader, &error);
			if (body == NULL) {
				if (error != NULL) {
					/* A bad length prefix: the stream is over, as
					 * ferry kills the worker. */
					check(error->domain == WORKER_PROTOCOL_ERROR);
					g_error_free(error);
					pos = size;
				}
				break;
			}
			gsize len = g_bytes_get_size(body);
			check(len >= 1 && len <= WORKER_MAX_FRAME);
			decode_body(body);
			g_bytes_unref(body);
			frames++;
		}
	}
	worker_reader_free(reader);
}

static void fuzz_payload(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	guint32 type = catalogue[data[0] % G_N_ELEMENTS(catalogue)];
	guint32 account = data[0] / G_N_ELEMENTS(catalogue);
	const char *typestr = worker_msg_payload_type(type);
	size_t tlen = strlen(typestr);
	size_t plen = size - 1;
	size_t n = 8 + plen + 1 + tlen;
	guint8 *body = g_malloc(n);
	memcpy(body, &type, 4);
	memcpy(body + 4, &account, 4);
	memcpy(body + 8, data + 1, plen);
	body[8 + plen] = 0;
	memcpy(body + 8 + plen + 1, typestr, tlen);
	GBytes *bytes = g_bytes_new_take(body, n);
	decode_body(bytes);
	g_bytes_unref(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_stream(data + 1, size - 1);
	else
		fuzz_payload(data + 1, size - 1);
	return 0;
}
