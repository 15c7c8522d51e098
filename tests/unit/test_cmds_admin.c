/* Unit tests for cmds_admin.c through XEP-0050 on the gateway fixture:
 * admin commands refused to users, stats, the XEP-0133 nodes (online
 * users, announce to every registered user, end-user-session of the
 * listed users only, delete-user after a confirmation) and the admins'
 * alert on a worker crash loop. */
#include "config.h"

#include "cmd_helpers.h"
#include "ferry/worker_msgs.h"

#define ADMIN "root@example.org"
#define ADMIN_PC ADMIN "/pc"
#define BOB_USER "bob@example.org"
#define ADMIN_NS "http://jabber.org/protocol/admin"

static void setup(struct gw *gw, gconstpointer data)
{
	gw_test_setup(gw, "[access]\nadmins = " ADMIN "\n");
	gw_register_user(gw, BOB_USER, "bob", "pw2");
}

/* The first value of field VAR of the answer's form. */
static char *value_of(const struct stanza *iq, const char *var)
{
	struct dataform *f = cmd_form(iq);
	char *v = g_strdup(dataform_get_value(f, var));
	dataform_free(f);
	return v;
}

static void test_refused_to_users(struct gw *gw, gconstpointer unused)
{
	static const char *const nodes[] = {"stats", ADMIN_NS "#get-online-users-list",
	                                    ADMIN_NS "#announce", ADMIN_NS "#end-user-session",
	                                    ADMIN_NS "#delete-user"};
	for (gsize i = 0; i < G_N_ELEMENTS(nodes); i++) {
		struct stanza *iq = cmd_execute(gw, ALICE_PC, nodes[i]);
		g_assert_cmpstr(stanza_get_type(iq), ==, "error");
		g_autofree char *text = test_error_text(iq, "forbidden");
		stanza_free(iq);
	}
	gw_expect_nothing(gw);
}

static void test_stats(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	struct stanza *iq = cmd_execute(gw, ADMIN_PC, "stats");
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	g_autofree char *reg = value_of(iq, "users_registered");
	g_autofree char *online = value_of(iq, "users_online");
	g_autofree char *outbox = value_of(iq, "outbox");
	g_autofree char *workers = value_of(iq, "workers");
	g_assert_cmpstr(reg, ==, "2");
	g_assert_cmpstr(online, ==, "1");
	g_assert_cmpstr(outbox, ==, "0");
	g_assert_cmpstr(workers, ==, "0"); /* the fake legacy side has no processes */
	g_autofree char *form_type = value_of(iq, "FORM_TYPE");
	g_assert_cmpstr(form_type, ==, ADMIN_NS);
	stanza_free(iq);
}

static void test_online_users(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	const char *node = ADMIN_NS "#get-online-users-list";
	struct stanza *iq = cmd_execute(gw, ADMIN_PC, node);
	g_autofree char *sid = cmd_sid(iq);
	g_autofree char *max = value_of(iq, "max_items");
	g_assert_cmpstr(max, ==, "none");
	stanza_free(iq);
	iq = cmd_submit(gw, ADMIN_PC, node, sid, "complete",
	                "<field var='FORM_TYPE'><value>" ADMIN_NS "</value></field>"
	                "<field var='max_items'><value>25</value></field>");
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	struct dataform *f = cmd_form(iq);
	const struct dataform_field *jids = dataform_find_field(f, "onlineuserjids");
	g_assert_nonnull(jids);
	g_assert_cmpint(dataform_field_type(jids), ==, DATAFORM_JID_MULTI);
	g_assert_cmpuint(dataform_field_values(jids)->len, ==, 1); /* bob is not online */
	g_assert_cmpstr(dataform_field_value(jids), ==, ALICE);
	dataform_free(f);
	stanza_free(iq);
}

/* To every registered user, online or not, as a normal message. */
static void test_announce(struct gw *gw, gconstpointer unused)
{
	const char *node = ADMIN_NS "#announce";
	struct stanza *iq = cmd_execute(gw, ADMIN_PC, node);
	g_autofree char *sid = cmd_sid(iq);
	stanza_free(iq);
	/* required: refused without it */
	iq = cmd_submit(gw, ADMIN_PC, node, sid, "complete", "");
	g_assert_cmpstr(stanza_get_type(iq), ==, "error");
	stanza_free(iq);
	iq = cmd_submit(gw, ADMIN_PC, node, sid, "complete",
	                "<field var='subject'><value>Maintenance</value></field>"
	                "<field var='announcement'><value>Down at 10</value><value>Back at 11"
	                "</value></field>");
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	g_autofree char *note = cmd_note(iq);
	g_assert_cmpstr(note, ==, "Sent to 2 users");
	stanza_free(iq);
	gw_expect_next(gw, "<message from='" GW_JID "' to='" ALICE "' type='normal'>"
	                   "<subject>Maintenance</subject><body>Down at 10\nBack at 11</body>"
	                   "</message>");
	gw_expect_next(gw, "<message from='" GW_JID "' to='" BOB_USER "' type='normal'>"
	                   "<subject>Maintenance</subject><body>Down at 10\nBack at 11</body>"
	                   "</message>");
}

/* Only the listed users' sessions end; each is told. */
static void test_end_session(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	const char *node = ADMIN_NS "#end-user-session";
	struct stanza *iq = cmd_execute(gw, ADMIN_PC, node);
	g_autofree char *sid = cmd_sid(iq);
	stanza_free(iq);
	iq = cmd_submit(gw, ADMIN_PC, node, sid, "complete",
	                "<field var='accountjids'><value>" ALICE "</value><value>" BOB_USER
	                "</value></field>");
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	g_autofree char *note = cmd_note(iq);
	g_assert_cmpstr(note, ==,
	                "Ended the legacy session of " ALICE "; no session to end for " BOB_USER);
	stanza_free(iq);
	g_assert_false(fake_legacy_has_account(gw->fake, account));
	struct stanza *told = gw_expect(gw, "message", "chat", ALICE);
	stanza_free(told);
}

static bool unregistered(void *data)
{
	struct gw *gw = data;
	g_autoptr(GHashTable) settings = storage_user_settings(gw->storage, BOB_USER, NULL);
	return settings == NULL;
}

static void test_delete_user(struct gw *gw, gconstpointer unused)
{
	const char *node = ADMIN_NS "#delete-user";
	struct stanza *iq = cmd_execute(gw, ADMIN_PC, node);
	g_autofree char *sid = cmd_sid(iq);
	stanza_free(iq);
	iq = cmd_submit(gw, ADMIN_PC, node, sid, "next",
	                "<field var='accountjids'><value>" BOB_USER "</value><value>nobody@"
	                "example.org</value></field>");
	g_assert_cmpstr(cmd_status(iq), ==, "executing");
	g_autofree char *confirm = value_of(iq, "confirm");
	g_assert_cmpstr(confirm, ==, "false");
	stanza_free(iq);
	g_assert_false(unregistered(gw)); /* nothing yet */
	cmd_submit_only(gw, ADMIN_PC, node, sid, "complete",
	                "<field var='confirm'><value>true</value></field>");
	g_assert_true(gw_run_until(unregistered, gw, 3000));
	iq = gw_expect(gw, "iq", "result", ADMIN_PC);
	g_autofree char *note = cmd_note(iq);
	g_assert_cmpstr(note, ==, "Deleted " BOB_USER);
	stanza_free(iq);
	/* alice stays */
	g_autoptr(GHashTable) alice = storage_user_settings(gw->storage, ALICE, NULL);
	g_assert_nonnull(alice);
}

static void test_crash_loop_alert(struct gw *gw, gconstpointer unused)
{
	legacy_emit_crash_loop(gw->legacy, 3, 600);
	gw_expect_next(gw, "<message from='" GW_JID "' to='" ADMIN "' type='chat'><body>[" GW_JID
	                   " admin] 3 worker processes died within 10 minutes: a crash "
	                   "loop (see ferry's log)</body></message>");
	gw_expect_nothing(gw);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, setup, fn, gw_test_teardown)
	ADD("/cmds/admin/refused-to-users", test_refused_to_users);
	ADD("/cmds/admin/stats", test_stats);
	ADD("/cmds/admin/online-users", test_online_users);
	ADD("/cmds/admin/announce", test_announce);
	ADD("/cmds/admin/end-user-session", test_end_session);
	ADD("/cmds/admin/delete-user", test_delete_user);
	ADD("/cmds/admin/crash-loop-alert", test_crash_loop_alert);
	return g_test_run();
}
