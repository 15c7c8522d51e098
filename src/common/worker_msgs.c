/* worker_msgs: the typed codec, generated from the catalogue
 * (WORKER_MESSAGES in worker_protocol.h). One function per kind encodes,
 * decodes and releases a member; the X-macros below string them together
 * per message. See include/ferry/worker_msgs.h. */
#include "config.h"
#include "ferry/worker_msgs.h"

#include <string.h>

/* ---- one member, by kind ----------------------------------------------------- */

static inline GVariant *enc_STR(const char *v)
{
	return g_variant_new_string(v != NULL ? v : "");
}

/* The text goes only into memory that is wiped when freed: the GVariant
 * serializes it straight into the (wiped) frame. */
static inline GVariant *enc_SECRET(const char *v)
{
	if (v == NULL)
		v = "";
	g_return_val_if_fail(g_utf8_validate(v, -1, NULL), g_variant_new_string(""));
	g_autoptr(GBytes) bytes = worker_wiped_bytes_new(v, strlen(v) + 1);
	return g_variant_new_from_bytes(G_VARIANT_TYPE_STRING, bytes, TRUE);
}

static inline GVariant *enc_U32(guint32 v)
{
	return g_variant_new_uint32(v);
}

static inline GVariant *enc_BOOL(bool v)
{
	return g_variant_new_boolean(v);
}

static inline GVariant *enc_I64(gint64 v)
{
	return g_variant_new_int64(v);
}

/* Values may be secrets (some account options are): wiped as SECRET. */
static inline GVariant *enc_DICT(GHashTable *v)
{
	guint n = v != NULL ? g_hash_table_size(v) : 0;
	g_autofree GVariant **entries = g_new(GVariant *, n + 1);
	guint i = 0;
	if (v != NULL) {
		GHashTableIter it;
		gpointer key, value;
		g_hash_table_iter_init(&it, v);
		while (g_hash_table_iter_next(&it, &key, &value))
			entries[i++] = g_variant_new_dict_entry(enc_STR(key), enc_SECRET(value));
	}
	return g_variant_new_array(G_VARIANT_TYPE("{ss}"), entries, i);
}

/* A prompt's fields: each table as a DICT (its values wiped as well, a
 * masked field's default being a secret). */
static inline GVariant *enc_FORM(GPtrArray *v)
{
	guint n = v != NULL ? v->len : 0;
	g_autofree GVariant **items = g_new(GVariant *, n + 1);
	for (guint i = 0; i < n; i++)
		items[i] = enc_DICT(g_ptr_array_index(v, i));
	return g_variant_new_array(G_VARIANT_TYPE("a{ss}"), items, n);
}

/* Decoded strings point into PAYLOAD's data, which outlives the child. */
static inline void dec_STR(GVariant *payload, gsize i, const char **out)
{
	GVariant *child = g_variant_get_child_value(payload, i);
	*out = g_variant_get_string(child, NULL);
	g_variant_unref(child);
}

static inline void dec_SECRET(GVariant *payload, gsize i, const char **out)
{
	dec_STR(payload, i, out);
}

static inline void dec_U32(GVariant *payload, gsize i, guint32 *out)
{
	GVariant *child = g_variant_get_child_value(payload, i);
	*out = g_variant_get_uint32(child);
	g_variant_unref(child);
}

static inline void dec_BOOL(GVariant *payload, gsize i, bool *out)
{
	GVariant *child = g_variant_get_child_value(payload, i);
	*out = g_variant_get_boolean(child);
	g_variant_unref(child);
}

static inline void dec_I64(GVariant *payload, gsize i, gint64 *out)
{
	GVariant *child = g_variant_get_child_value(payload, i);
	*out = g_variant_get_int64(child);
	g_variant_unref(child);
}

static inline void dec_DICT(GVariant *payload, gsize i, GHashTable **out)
{
	GVariant *dict = g_variant_get_child_value(payload, i);
	GHashTable *table = g_hash_table_new(g_str_hash, g_str_equal);
	gsize n = g_variant_n_children(dict);
	for (gsize j = 0; j < n; j++) {
		GVariant *entry = g_variant_get_child_value(dict, j);
		const char *key = NULL, *value = NULL;
		dec_STR(entry, 0, &key);
		dec_STR(entry, 1, &value);
		g_hash_table_insert(table, (gpointer)key, (gpointer)value);
		g_variant_unref(entry);
	}
	g_variant_unref(dict);
	*out = table;
}

static inline void dec_FORM(GVariant *payload, gsize i, GPtrArray **out)
{
	GVariant *list = g_variant_get_child_value(payload, i);
	gsize n = g_variant_n_children(list);
	GPtrArray *tables = g_ptr_array_new_full(n, (GDestroyNotify)g_hash_table_unref);
	for (gsize j = 0; j < n; j++) {
		GHashTable *table = NULL;
		dec_DICT(list, j, &table);
		g_ptr_array_add(tables, table);
	}
	g_variant_unref(list);
	*out = tables;
}

static inline void clr_STR(const char **v)
{
	*v = NULL;
}

static inline void clr_SECRET(const char **v)
{
	*v = NULL;
}

static inline void clr_U32(guint32 *v)
{
	(void)v;
}

static inline void clr_BOOL(bool *v)
{
	(void)v;
}

static inline void clr_I64(gint64 *v)
{
	(void)v;
}

static inline void clr_DICT(GHashTable **v)
{
	g_clear_pointer(v, g_hash_table_unref);
}

static inline void clr_FORM(GPtrArray **v)
{
	g_clear_pointer(v, g_ptr_array_unref);
}

/* ---- per message, from the catalogue ------------------------------------------ */

#define ENCODE_MEMBER(kind, member) enc_##kind(msg->member),
#define ENCODER(NAME, number, name, fields)                                                        \
	GBytes *worker_msg_##name##_frame(const struct worker_msg_##name *msg)                     \
	{                                                                                          \
		GVariant *items[] = {fields NULL};                                                 \
		return worker_frame_encode(WORKER_##NAME, msg->account,                            \
		                           g_variant_new_tuple(items, G_N_ELEMENTS(items) - 1));   \
	}
WORKER_MESSAGES(ENCODER, ENCODE_MEMBER)

#define DECODE_MEMBER(kind, member) dec_##kind(payload, i++, &msg->member);
#define DECODER(NAME, number, name, fields)                                                        \
	bool worker_msg_##name##_read(GVariant *payload, guint32 account,                          \
	                              struct worker_msg_##name *msg)                               \
	{                                                                                          \
		*msg = (struct worker_msg_##name){.account = account};                             \
		g_return_val_if_fail(                                                              \
		    g_variant_is_of_type(payload,                                                  \
		                         G_VARIANT_TYPE(worker_msg_payload_type(WORKER_##NAME))),  \
		    false);                                                                        \
		G_GNUC_UNUSED gsize i = 0;                                                         \
		fields return true;                                                                \
	}
WORKER_MESSAGES(DECODER, DECODE_MEMBER)

#define CLEAR_MEMBER(kind, member) clr_##kind(&msg->member);
#define CLEARER(NAME, number, name, fields)                                                        \
	void worker_msg_##name##_clear(struct worker_msg_##name *msg)                              \
	{                                                                                          \
		(void)msg;                                                                         \
		fields                                                                             \
	}
WORKER_MESSAGES(CLEARER, CLEAR_MEMBER)

#define DISPATCH_CASE(NAME, number, name, fields)                                                  \
	case WORKER_##NAME: {                                                                      \
		if (handlers->name == NULL)                                                        \
			return false;                                                              \
		struct worker_msg_##name msg;                                                      \
		if (!worker_msg_##name##_read(payload, account, &msg))                             \
			return false;                                                              \
		handlers->name(data, &msg);                                                        \
		worker_msg_##name##_clear(&msg);                                                   \
		return true;                                                                       \
	}

bool worker_msg_dispatch(const struct worker_msg_handlers *handlers, void *data, guint32 type,
                         guint32 account, GVariant *payload)
{
	switch (type) {
		WORKER_MESSAGES(DISPATCH_CASE, WORKER_NO_FIELD_)
	default:
		return false;
	}
}
