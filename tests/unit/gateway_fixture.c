/* gateway_fixture: a transport on real parts and a fake legacy side, for
 * unit tests. See gateway_fixture.h. */
#include "config.h"
#include "gateway_fixture.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ferry/stanza.h"
#include "helpers.h"

/* What ferry-worker --describe prints for prpl-irc, trimmed. */
#define IRC_DESC                                                                                   \
	"('prpl-irc', 'IRC', uint32 1, [('Server', 'irc.libera.chat', '@')], "                     \
	"[('port', 'int', 'Port', '6667', @a(ss) []), "                                            \
	"('ssl', 'bool', 'Use SSL', 'false', [])])"

static void on_send(void *data, struct stanza *stanza)
{
	struct gw *gw = data;
	/* Through text and back: what goes out must serialize and parse. */
	g_autofree char *xml = stanza_to_string(stanza);
	stanza_free(stanza);
	g_queue_push_tail(&gw->sent, test_parse_stanza(xml));
}

/* The router, disco and transport on the parts gw_setup() made. */
static void start(struct gw *gw)
{
	gw->router = router_new(GW_JID, on_send, gw);
	gw->disco = disco_new(gw->router);
	const struct gateway_ports ports = {
	    .settings = gw->settings,
	    .router = gw->router,
	    .disco = gw->disco,
	    .storage = gw->storage,
	    .legacy = gw->legacy,
	    .form = gw->form,
	};
	gw->gateway = gateway_new(&ports);
}

void gw_setup(struct gw *gw, const char *extra)
{
	memset(gw, 0, sizeof *gw);
	g_queue_init(&gw->sent);
	g_autoptr(GError) err = NULL;
	gw->dir = g_dir_make_tmp("ferry-test-gateway-XXXXXX", &err);
	g_assert_no_error(err);
	g_autofree char *conf = g_strdup_printf("[component]\njid = " GW_JID "\nsecret = s\n"
	                                        "[storage]\ndatabase = %s/ferry.db\n"
	                                        "key_file = %s/ferry.key\n%s",
	                                        gw->dir, gw->dir, extra != NULL ? extra : "");
	g_autofree char *path = g_build_filename(gw->dir, "ferry.conf", NULL);
	gw->settings = settings_load_data(conf, path, &err);
	g_assert_no_error(err);
	/* Users of these tests choose their IRC servers freely (the address
	 * policy has its own tests: test_regform, test_netpolicy). */
	if (!g_hash_table_contains(gw->settings->legacy_overrides, "ferry.allowed_servers"))
		g_hash_table_insert(gw->settings->legacy_overrides,
		                    g_strdup("ferry.allowed_servers"), g_strdup("*"));
	guint8 key[SECRETS_KEY_BYTES];
	for (int i = 0; i < SECRETS_KEY_BYTES; i++)
		key[i] = (guint8)(0x40 + i);
	gw->secrets = secrets_new_from_key(key);
	gw->storage = storage_open_sqlite(gw->settings->database, gw->secrets, &err);
	g_assert_no_error(err);
	struct worker_description *describe = worker_description_parse(IRC_DESC, &err);
	g_assert_no_error(err);
	gw->form = regform_new(describe, gw->settings->legacy_overrides,
	                       gw->settings->legacy_locked, &err);
	worker_description_free(describe);
	g_assert_no_error(err);
	gw->legacy = fake_legacy_new(&gw->fake);
	start(gw);
}

void gw_restart(struct gw *gw)
{
	g_clear_pointer(&gw->gateway, gateway_free);
	g_clear_pointer(&gw->disco, disco_free);
	g_clear_pointer(&gw->router, router_free);
	gw_clear(gw);
	fake_legacy_clear(gw->fake);
	start(gw);
}

void gw_teardown(struct gw *gw)
{
	g_clear_pointer(&gw->gateway, gateway_free);
	g_clear_pointer(&gw->legacy, legacy_free);
	g_clear_pointer(&gw->router, router_free);
	g_clear_pointer(&gw->disco, disco_free);
	g_clear_pointer(&gw->form, regform_free);
	g_clear_pointer(&gw->storage, storage_free);
	g_clear_pointer(&gw->secrets, secrets_free);
	g_clear_pointer(&gw->settings, settings_free);
	gw_clear(gw);
	GDir *d = g_dir_open(gw->dir, 0, NULL);
	g_assert_nonnull(d);
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(gw->dir, name, NULL);
		g_assert_cmpint(g_unlink(p), ==, 0);
	}
	g_dir_close(d);
	g_assert_cmpint(g_rmdir(gw->dir), ==, 0);
	g_clear_pointer(&gw->dir, g_free);
}

void gw_inject(struct gw *gw, const char *xml)
{
	router_dispatch(gw->router, test_parse_stanza(xml));
}

void gw_injectf(struct gw *gw, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	g_autofree char *xml = g_strdup_vprintf(format, args);
	va_end(args);
	gw_inject(gw, xml);
}

struct stanza *gw_take(struct gw *gw)
{
	return g_queue_pop_head(&gw->sent);
}

struct stanza *gw_take_match(struct gw *gw, const char *name, const char *type, const char *to)
{
	for (GList *l = gw->sent.head; l != NULL; l = l->next) {
		struct stanza *s = l->data;
		if (strcmp(stanza_name(s), name) != 0)
			continue;
		if (g_strcmp0(type, "*") != 0 && g_strcmp0(stanza_get_type(s), type) != 0)
			continue;
		if (to != NULL && g_strcmp0(stanza_get_to(s), to) != 0)
			continue;
		g_queue_delete_link(&gw->sent, l);
		return s;
	}
	return NULL;
}

struct stanza *gw_expect(struct gw *gw, const char *name, const char *type, const char *to)
{
	struct stanza *s = gw_take_match(gw, name, type, to);
	if (s == NULL) {
		for (GList *l = gw->sent.head; l != NULL; l = l->next) {
			g_autofree char *xml = stanza_to_string(l->data);
			g_test_message("sent: %s", xml);
		}
		g_error("no <%s type='%s'> to %s was sent", name, type != NULL ? type : "(none)",
		        to != NULL ? to : "anyone");
	}
	return s;
}

void gw_clear(struct gw *gw)
{
	g_queue_clear_full(&gw->sent, (GDestroyNotify)stanza_free);
	g_queue_init(&gw->sent);
}

guint gw_sent_count(const struct gw *gw)
{
	return gw->sent.length;
}

void gw_register_user(struct gw *gw, const char *bare, const char *nick, const char *password)
{
	g_autoptr(GHashTable) settings =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(settings, g_strdup("username"), g_strdup(nick));
	g_autoptr(GError) err = NULL;
	g_assert_true(storage_user_put(gw->storage, bare, settings, password, &err));
	g_assert_no_error(err);
}

static gboolean on_deadline(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

bool gw_run_until(bool (*cond)(void *data), void *data, guint timeout_ms)
{
	bool late = false;
	guint timer = g_timeout_add(timeout_ms, on_deadline, &late);
	bool ok;
	while (!(ok = cond(data)) && !late)
		g_main_context_iteration(NULL, TRUE);
	if (!late)
		g_source_remove(timer);
	return ok;
}

static bool never(void *data)
{
	return false;
}

void gw_run_for(guint ms)
{
	(void)gw_run_until(never, NULL, ms);
}

guint32 gw_online(struct gw *gw, const char *nick)
{
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *login = fake_legacy_take_type(gw->fake, WORKER_LOGIN);
	g_assert_nonnull(login);
	guint32 account = login->account;
	fake_command_free(login);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = nick);
	gw_clear(gw);
	fake_legacy_clear(gw->fake);
	return account;
}

void gw_test_setup(struct gw *gw, gconstpointer extra)
{
	gw_setup(gw, extra);
	gw_register_user(gw, ALICE, "alice", "pw");
}

void gw_test_teardown(struct gw *gw, gconstpointer unused)
{
	gw_teardown(gw);
}

struct fake_command *gw_take_command(struct gw *gw, guint32 type)
{
	struct fake_command *c = fake_legacy_take_type(gw->fake, type);
	if (c == NULL)
		g_error("no %s command was sent", worker_msg_name(type));
	return c;
}

void gw_expect_next(struct gw *gw, const char *xml)
{
	struct stanza *s = gw_take(gw);
	if (s == NULL)
		g_error("nothing was sent; expected %s", xml);
	g_autofree char *got = stanza_to_string(s);
	stanza_free(s);
	g_assert_cmpstr(got, ==, xml);
}

void gw_expect_nothing(struct gw *gw)
{
	struct stanza *s = gw_take(gw);
	if (s != NULL) {
		g_autofree char *got = stanza_to_string(s);
		stanza_free(s);
		g_error("unexpected %s", got);
	}
}

bool gw_has_login(void *data)
{
	struct gw *gw = data;
	return fake_legacy_count_type(gw->fake, WORKER_LOGIN) > 0;
}

guint32 gw_relogin(struct gw *gw, const char *nick)
{
	g_assert_true(gw_run_until(gw_has_login, gw, 3000));
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = c->account;
	fake_command_free(c);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = nick);
	return account;
}

char *gw_stored_contacts(struct gw *gw)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) list = storage_contact_list(gw->storage, ALICE, &err);
	g_assert_no_error(err);
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < list->len; i++) {
		const struct storage_contact *c = g_ptr_array_index(list, i);
		g_string_append_printf(out, "%s%s:%u", i > 0 ? "," : "", c->legacy_name, c->flags);
	}
	return g_string_free(out, FALSE);
}
