/* Unit tests for the typed worker codec (worker_msgs.h): every message of
 * the catalogue, generated from the same list, is framed, reassembled,
 * decoded and compared member by member with what went in; dispatch calls
 * the right callback or reports that none is set; defaults for NULL. */
#include "config.h"

#include <string.h>

#include "ferry/worker_describe.h"
#include "ferry/worker_msgs.h"

/* Strings and tables made for one test, freed at its end. */
static GPtrArray *garbage;
static GPtrArray *tables;
static GPtrArray *forms;

static const char *keep(char *s)
{
	g_ptr_array_add(garbage, s);
	return s;
}

/* ---- a distinct sample per kind and member ------------------------------------- */

static const char *sample_STR(const char *member)
{
	return keep(g_strdup_printf("%s <\xc3\xa9&> '\"", member));
}

static const char *sample_SECRET(const char *member)
{
	return keep(g_strdup_printf(" secret %s ", member));
}

static guint32 sample_U32(const char *member)
{
	return g_str_hash(member) | 0x80000000u;
}

static bool sample_BOOL(const char *member)
{
	return true; /* zero-initialized members are false */
}

static gint64 sample_I64(const char *member)
{
	return -((gint64)g_str_hash(member) << 20);
}

static GHashTable *sample_DICT(const char *member)
{
	GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(t, (gpointer)keep(g_strdup_printf("%s-port", member)),
	                    (gpointer) "6697");
	g_hash_table_insert(t, (gpointer) "ssl", (gpointer) "true");
	g_hash_table_insert(t, (gpointer) "empty", (gpointer) "");
	g_ptr_array_add(tables, t);
	return t;
}

static GPtrArray *sample_FORM(const char *member)
{
	GPtrArray *a = g_ptr_array_new();
	g_ptr_array_add(a, sample_DICT(member));
	GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(t, (gpointer) "var", (gpointer)keep(g_strdup_printf("%s-var", member)));
	g_ptr_array_add(tables, t);
	g_ptr_array_add(a, t);
	g_ptr_array_add(a, sample_DICT("second"));
	g_ptr_array_add(forms, a);
	return a;
}

static void check_STR(const char *member, const char *want, const char *got)
{
	g_test_message("%s", member);
	g_assert_cmpstr(got, ==, want);
}

static void check_SECRET(const char *member, const char *want, const char *got)
{
	check_STR(member, want, got);
}

static void check_U32(const char *member, guint32 want, guint32 got)
{
	g_test_message("%s", member);
	g_assert_cmpuint(got, ==, want);
}

static void check_BOOL(const char *member, bool want, bool got)
{
	g_test_message("%s", member);
	g_assert_true(got == want);
}

static void check_I64(const char *member, gint64 want, gint64 got)
{
	g_test_message("%s", member);
	g_assert_cmpint(got, ==, want);
}

static void check_DICT(const char *member, GHashTable *want, GHashTable *got)
{
	g_test_message("%s", member);
	g_assert_nonnull(got);
	g_assert_cmpuint(g_hash_table_size(got), ==, g_hash_table_size(want));
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, want);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_assert_cmpstr(g_hash_table_lookup(got, k), ==, v);
}

static void check_FORM(const char *member, GPtrArray *want, GPtrArray *got)
{
	g_test_message("%s", member);
	g_assert_nonnull(got);
	g_assert_cmpuint(got->len, ==, want->len);
	for (guint i = 0; i < want->len; i++)
		check_DICT(member, g_ptr_array_index(want, i), g_ptr_array_index(got, i));
}

/* ---- the frame of a message, decoded back to its payload ------------------------ */

static GVariant *decode_frame(GBytes *frame, guint32 want_type, guint32 want_account)
{
	gsize len = 0;
	const guint8 *p = g_bytes_get_data(frame, &len);
	guint32 n = ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
	g_assert_cmpuint(n + 4, ==, len);
	g_assert_cmpuint(worker_frame_type(frame), ==, want_type);
	g_assert_cmpuint(worker_frame_account(frame), ==, want_account);
	struct worker_reader *r = worker_reader_new();
	worker_reader_feed(r, p, len);
	g_autoptr(GError) err = NULL;
	g_autoptr(GBytes) body = worker_reader_next(r, &err);
	g_assert_no_error(err);
	g_assert_nonnull(body);
	worker_reader_free(r);
	guint32 type = 0, account = 0;
	GVariant *payload = NULL;
	g_assert_true(worker_frame_decode(body, &type, &account, &payload, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(type, ==, want_type);
	g_assert_cmpuint(account, ==, want_account);
	g_assert_cmpstr(g_variant_get_type_string(payload), ==, worker_msg_payload_type(type));
	return payload;
}

/* ---- one round trip per message, generated from the catalogue ------------------- */

#define SAMPLE_MEMBER(kind, member) .member = sample_##kind(#member),
#define SAMPLER(NAME, number, name, fields)                                                        \
	static struct worker_msg_##name sample_##name(guint32 account)                             \
	{                                                                                          \
		return (struct worker_msg_##name){.account = account, fields};                     \
	}
WORKER_MESSAGES(SAMPLER, SAMPLE_MEMBER)

#define CHECK_MEMBER(kind, member) check_##kind(#member, want->member, got->member);
#define CHECKER(NAME, number, name, fields)                                                        \
	static void check_##name(const struct worker_msg_##name *want,                             \
	                         const struct worker_msg_##name *got)                              \
	{                                                                                          \
		g_assert_cmpuint(got->account, ==, want->account);                                 \
		fields                                                                             \
	}
WORKER_MESSAGES(CHECKER, CHECK_MEMBER)

#define ROUND_TRIP(NAME, number, name, fields)                                                     \
	static void test_round_trip_##name(void)                                                   \
	{                                                                                          \
		garbage = g_ptr_array_new_with_free_func(g_free);                                  \
		tables = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);       \
		forms = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);         \
		struct worker_msg_##name want = sample_##name(77);                                 \
		g_autoptr(GBytes) frame = worker_msg_##name##_frame(&want);                        \
		g_assert_nonnull(frame);                                                           \
		g_autoptr(GVariant) payload = decode_frame(frame, WORKER_##NAME, 77);              \
		struct worker_msg_##name got;                                                      \
		g_assert_true(worker_msg_##name##_read(payload, 77, &got));                        \
		check_##name(&want, &got);                                                         \
		worker_msg_##name##_clear(&got);                                                   \
		g_ptr_array_unref(garbage);                                                        \
		g_ptr_array_unref(tables);                                                         \
		g_ptr_array_unref(forms);                                                          \
	}
WORKER_MESSAGES(ROUND_TRIP, WORKER_NO_FIELD_)

/* ---- defaults and dispatch ---------------------------------------------------------- */

/* NULL strings go out as "", a NULL dictionary as an empty one. */
static void test_null_members(void)
{
	g_autoptr(GBytes) f = WORKER_FRAME(login, .account = 3, .protocol = "prpl-irc");
	g_autoptr(GVariant) payload = decode_frame(f, WORKER_LOGIN, 3);
	struct worker_msg_login got;
	g_assert_true(worker_msg_login_read(payload, 3, &got));
	g_assert_cmpstr(got.protocol, ==, "prpl-irc");
	g_assert_cmpstr(got.username, ==, "");
	g_assert_cmpstr(got.password, ==, "");
	g_assert_cmpuint(g_hash_table_size(got.options), ==, 0);
	g_assert_cmpuint(got.flags, ==, 0);
	worker_msg_login_clear(&got);
	g_assert_null(got.options);
}

/* The wire bytes are GVariant's own for the payload: what an older peer
 * built with g_variant_new() reads the same. */
static void test_same_payload_as_gvariant_new(void)
{
	g_autoptr(GBytes) f = WORKER_FRAME(send_im, .account = 9, .seq = 5, .name = "bob",
	                                   .text = "h\xc3\xa9llo", .max_lines = 12);
	g_autoptr(GVariant) got = decode_frame(f, WORKER_SEND_IM, 9);
	g_autoptr(GVariant) want =
	    g_variant_ref_sink(g_variant_new("(ussu)", 5, "bob", "h\xc3\xa9llo", 12));
	g_assert_true(g_variant_equal(got, want));
}

struct seen {
	int calls;
	guint32 account;
	char *nick;
};

static void on_connected(void *data, const struct worker_msg_connected *m)
{
	struct seen *seen = data;
	seen->calls++;
	seen->account = m->account;
	g_free(seen->nick);
	seen->nick = g_strdup(m->nick);
}

static void test_dispatch(void)
{
	const struct worker_msg_handlers handlers = {.connected = on_connected};
	struct seen seen = {0};
	g_autoptr(GBytes) f = WORKER_FRAME(connected, .account = 4, .nick = "alice1");
	g_autoptr(GVariant) payload = decode_frame(f, WORKER_CONNECTED, 4);
	g_assert_true(worker_msg_dispatch(&handlers, &seen, WORKER_CONNECTED, 4, payload));
	g_assert_cmpint(seen.calls, ==, 1);
	g_assert_cmpuint(seen.account, ==, 4);
	g_assert_cmpstr(seen.nick, ==, "alice1");

	/* No callback for the type, or an unknown type: false, nothing called. */
	g_autoptr(GBytes) f2 = WORKER_FRAME(typing, .account = 4, .name = "bob", .state = 1);
	g_autoptr(GVariant) p2 = decode_frame(f2, WORKER_TYPING, 4);
	g_assert_false(worker_msg_dispatch(&handlers, &seen, WORKER_TYPING, 4, p2));
	g_assert_false(worker_msg_dispatch(&handlers, &seen, 9999, 4, payload));
	g_assert_cmpint(seen.calls, ==, 1);
	g_free(seen.nick);
}

/* Commands are numbered below WORKER_READY and events from it on: ferry
 * and the worker tell them apart by that. */
#define COMMAND_BELOW_READY(NAME, number, name, fields) g_assert_cmpuint(number, <, WORKER_READY);
#define EVENT_FROM_READY(NAME, number, name, fields) g_assert_cmpuint(number, >=, WORKER_READY);
static void test_directions(void)
{
	WORKER_COMMANDS(COMMAND_BELOW_READY, WORKER_NO_FIELD_)
	WORKER_EVENTS(EVENT_FROM_READY, WORKER_NO_FIELD_)
}

/* ---- protocol descriptions (worker_describe.h) ---------------------------------------- */

/* What ferry-worker --describe prints for prpl-jabber, trimmed: built,
 * printed, parsed back, the same again; an unknown kind reads as string. */
static void test_describe_round_trip(void)
{
	struct worker_description *d =
	    worker_description_new("prpl-jabber", "XMPP", WORKER_DESCRIBE_PASSWORD_OPTIONAL);
	worker_description_add_split(d, "Domain", NULL, "@");
	worker_description_add_split(d, "Resource", "", "/");
	struct worker_option *o = worker_description_add_option(
	    d, "connection_security", WORKER_OPTION_LIST, "Connection security", "require_tls");
	worker_option_add_choice(o, "Require encryption", "require_tls");
	worker_option_add_choice(o, "Use old-style SSL", "old_ssl");
	worker_description_add_option(d, "port", WORKER_OPTION_INT, "Connect port", "5222");
	worker_description_add_option(d, "plain", WORKER_OPTION_BOOL, "Allow plaintext", "false");
	g_autofree char *text = worker_description_print(d);
	g_assert_cmpstr(text, ==,
	                "('prpl-jabber', 'XMPP', 1, [('Domain', '', '@'), ('Resource', '', '/')], "
	                "[('connection_security', 'list', 'Connection security', 'require_tls', "
	                "[('Require encryption', 'require_tls'), ('Use old-style SSL', "
	                "'old_ssl')]), ('port', 'int', 'Connect port', '5222', []), "
	                "('plain', 'bool', 'Allow plaintext', 'false', [])])");
	g_autoptr(GError) err = NULL;
	struct worker_description *back = worker_description_parse(text, &err);
	g_assert_no_error(err);
	g_autofree char *again = worker_description_print(back);
	g_assert_cmpstr(again, ==, text);
	g_assert_cmpuint(back->options->len, ==, 3);
	const struct worker_option *list = g_ptr_array_index(back->options, 0);
	g_assert_cmpint(list->kind, ==, WORKER_OPTION_LIST);
	g_assert_cmpuint(list->choices->len, ==, 2);
	worker_description_free(back);
	worker_description_free(d);

	back =
	    worker_description_parse("('p', 'P', 0, [], [('k', 'colour', 'K', 'red', [])])", &err);
	g_assert_no_error(err);
	g_assert_cmpint(((struct worker_option *)g_ptr_array_index(back->options, 0))->kind, ==,
	                WORKER_OPTION_STRING);
	worker_description_free(back);

	g_assert_null(worker_description_parse("('p', 'P', 0, [])", &err));
	g_assert_nonnull(err);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD_ROUND_TRIP(NAME, number, name, fields)                                                 \
	g_test_add_func("/worker-msgs/round-trip/" #name, test_round_trip_##name);
	WORKER_MESSAGES(ADD_ROUND_TRIP, WORKER_NO_FIELD_)
	g_test_add_func("/worker-msgs/null-members", test_null_members);
	g_test_add_func("/worker-msgs/same-payload-as-gvariant-new",
	                test_same_payload_as_gvariant_new);
	g_test_add_func("/worker-msgs/dispatch", test_dispatch);
	g_test_add_func("/worker-msgs/directions", test_directions);
	g_test_add_func("/worker-describe/round-trip", test_describe_round_trip);
	return g_test_run();
}
