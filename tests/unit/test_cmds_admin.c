/* Unit tests for cmds_admin.c: admin commands hidden from and refused to
 * users, stats, the XEP-0133 nodes (online users, announce to every
 * registered user, end-user-session of the listed users only,
 * delete-user after a confirmation) and the admins' alert on a worker
 * crash loop, on the gateway fixture (cmd_helpers.h). */
#include "config.h"

#include "cmd_helpers.h"
#include "ferry/worker_msgs.h"

#define ADMIN "root@example.org"
#define ADMIN_PC ADMIN "/pc"
#define BOB_USER "bob@example.org"
#define ADMIN_NS "http://jabber.org/protocol/admin"

static void setup(struct ct *t, gconstpointer data)
{
	(void)data;
	ct_setup(t, "[access]\nadmins = " ADMIN "\n");
	gw_register_user(&t->gw, BOB_USER, "bob", "pw2");
}

static const char *const admin_nodes[] = {
    "stats",
    ADMIN_NS "#get-online-users-list",
    ADMIN_NS "#announce",
    ADMIN_NS "#end-user-session",
    ADMIN_NS "#delete-user",
};

static void test_refused_to_users(struct ct *t, gconstpointer unused)
{
	g_autoptr(GPtrArray) user = cmds_allowed(t->cmds, ALICE);
	g_autoptr(GPtrArray) admin = cmds_allowed(t->cmds, ADMIN);
	for (gsize i = 0; i < G_N_ELEMENTS(admin_nodes); i++) {
		const struct cmd_def *def = cmds_find_node(t->cmds, admin_nodes[i], NULL);
		g_assert_nonnull(def);
		g_assert_false(cmds_may_run(t->cmds, def, ALICE));
		g_assert_true(cmds_may_run(t->cmds, def, ADMIN));
		g_assert_false(g_ptr_array_find(user, def, NULL));
		g_assert_true(g_ptr_array_find(admin, def, NULL));
	}
}

static void test_stats(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	(void)gw_online(gw, "alice");
	/* bob's login fails before it signs on (then he leaves): counted */
	gw_inject(gw, "<presence from='" BOB_USER "/pc' to='" GW_JID "'/>");
	guint32 bob = fake_legacy_last_account(gw->fake);
	g_assert_cmpuint(bob, !=, 0);
	FAKE_EMIT(gw->fake, disconnected, .account = bob, .reason = WORKER_REASON_NETWORK,
	          .fatal = false, .text = "connection refused");
	gw_inject(gw, "<presence from='" BOB_USER "/pc' to='" GW_JID "' type='unavailable'/>");
	gw_clear(gw);
	ct_start(t, ADMIN_PC, "stats");
	g_assert_true(t->rec.ended);
	const struct dataform *r = t->rec.result;
	g_assert_nonnull(r);
	g_assert_cmpstr(dataform_get_form_type(r), ==, ADMIN_NS);
	g_assert_cmpstr(dataform_get_value(r, "users_registered"), ==, "2");
	g_assert_cmpstr(dataform_get_value(r, "users_online"), ==, "1");
	g_assert_cmpstr(dataform_get_value(r, "users_failed"), ==, "0");
	g_assert_cmpstr(dataform_get_value(r, "outbox"), ==, "0");
	g_assert_cmpstr(dataform_get_value(r, "login_failures"), ==, "1");
	/* the fake legacy side has no processes */
	g_assert_cmpstr(dataform_get_value(r, "workers"), ==, "0");
	g_assert_cmpuint(dataform_n_columns(r), ==, 3);
	g_assert_nonnull(dataform_get_value(r, "uptime"));
}

static void test_online_users(struct ct *t, gconstpointer unused)
{
	(void)gw_online(&t->gw, "alice");
	ct_start(t, ADMIN_PC, ADMIN_NS "#get-online-users-list");
	g_assert_cmpstr(ct_value(t, "FORM_TYPE"), ==, ADMIN_NS);
	g_assert_cmpstr(ct_value(t, "max_items"), ==, "none");
	ct_submit(t, "<field var='FORM_TYPE'><value>" ADMIN_NS "</value></field>"
	             "<field var='max_items'><value>25</value></field>");
	g_assert_true(t->rec.ended);
	const struct dataform_field *jids = dataform_find_field(t->rec.result, "onlineuserjids");
	g_assert_nonnull(jids);
	g_assert_cmpint(dataform_field_type(jids), ==, DATAFORM_JID_MULTI);
	g_assert_cmpuint(dataform_field_values(jids)->len, ==, 1); /* bob is not online */
	g_assert_cmpstr(dataform_field_value(jids), ==, ALICE);
}

/* To every registered user, online or not, as a normal message. */
static void test_announce(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	ct_start(t, ADMIN_PC, ADMIN_NS "#announce");
	ct_submit(t, ""); /* required */
	g_assert_nonnull(t->rec.refused);
	g_assert_false(t->rec.ended);
	gw_expect_nothing(gw);
	ct_submit(t, "<field var='subject'><value>Maintenance</value></field>"
	             "<field var='announcement'><value>Down at 10</value><value>Back at 11"
	             "</value></field>");
	g_assert_true(t->rec.ended);
	g_assert_cmpstr(t->rec.note, ==, "Sent to 2 users");
	gw_expect_next(gw, "<message from='" GW_JID "' to='" ALICE "' type='normal'>"
	                   "<subject>Maintenance</subject><body>Down at 10\nBack at 11</body>"
	                   "</message>");
	gw_expect_next(gw, "<message from='" GW_JID "' to='" BOB_USER "' type='normal'>"
	                   "<subject>Maintenance</subject><body>Down at 10\nBack at 11</body>"
	                   "</message>");
	gw_expect_nothing(gw);
}

/* Only the listed users' sessions end; each is told. */
static void test_end_session(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	guint32 account = gw_online(gw, "alice");
	ct_start(t, ADMIN_PC, ADMIN_NS "#end-user-session");
	ct_submit(t, "<field var='accountjids'><value>" BOB_USER "</value></field>");
	g_assert_cmpstr(t->rec.note, ==, "No session was ended; no session to end for " BOB_USER);
	g_assert_true(fake_legacy_has_account(gw->fake, account));
	ct_start(t, ADMIN_PC, ADMIN_NS "#end-user-session");
	ct_submit(t, "<field var='accountjids'><value>" ALICE "</value><value>" BOB_USER
	             "</value></field>");
	g_assert_true(t->rec.ended);
	g_assert_cmpstr(t->rec.note, ==,
	                "Ended the legacy session of " ALICE "; no session to end for " BOB_USER);
	g_assert_false(fake_legacy_has_account(gw->fake, account));
	struct stanza *told = gw_expect(gw, "message", "chat", ALICE);
	stanza_free(told);
}

static void test_delete_user(struct ct *t, gconstpointer unused)
{
	ct_start(t, ADMIN_PC, ADMIN_NS "#delete-user");
	ct_submit(t, "<field var='accountjids'><value>" BOB_USER "</value><value>nobody@"
	             "example.org</value></field>");
	g_assert_false(t->rec.ended);
	g_assert_cmpuint(t->rec.stages, ==, 2);
	g_assert_cmpstr(ct_value(t, "confirm"), ==, "false");
	/* not confirmed: nothing */
	ct_submit(t, "<field var='confirm'><value>false</value></field>");
	g_assert_cmpstr(t->rec.note, ==, "No user was deleted");
	g_autoptr(GHashTable) bob = storage_user_settings(t->gw.storage, BOB_USER, NULL);
	g_assert_nonnull(bob);

	ct_start(t, ADMIN_PC, ADMIN_NS "#delete-user");
	ct_submit(t, "<field var='accountjids'><value>" BOB_USER "</value></field>");
	ct_submit(t, "<field var='confirm'><value>true</value></field>");
	for (int i = 0; i < 100 && !t->rec.ended; i++)
		gw_run_for(20);
	g_assert_true(t->rec.ended);
	g_assert_cmpstr(t->rec.note, ==, "Deleted " BOB_USER);
	g_autoptr(GHashTable) gone = storage_user_settings(t->gw.storage, BOB_USER, NULL);
	g_assert_null(gone);
	/* nobody else */
	g_autoptr(GHashTable) alice = storage_user_settings(t->gw.storage, ALICE, NULL);
	g_assert_nonnull(alice);
}

static void test_crash_loop_alert(struct ct *t, gconstpointer unused)
{
	legacy_emit_crash_loop(t->gw.legacy, 3, 600);
	gw_expect_next(&t->gw,
	               "<message from='" GW_JID "' to='" ADMIN "' type='chat'><body>[" GW_JID
	               " admin] 3 worker processes died within 10 minutes: a crash "
	               "loop (see ferry's log)</body></message>");
	gw_expect_nothing(&t->gw);
}

/* An account quarantined (its worker crashed twice while sending): the
 * admins hear of it. */
static void test_quarantine_alert(struct ct *t, gconstpointer unused)
{
	guint32 account = gw_online(&t->gw, "alice");
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "session: * quarantined: *");
	FAKE_EMIT(t->gw.fake, disconnected, .account = account, .reason = WORKER_REASON_CRASHED,
	          .fatal = true, .text = "it crashed twice");
	g_test_assert_expected_messages();
	gw_expect_next(&t->gw,
	               "<message from='" GW_JID "' to='" ADMIN "' type='chat'><body>[" GW_JID
	               " admin] " ALICE " was quarantined: it crashed twice</body>"
	               "</message>");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct ct, NULL, setup, fn, ct_teardown)
	ADD("/cmds/admin/refused-to-users", test_refused_to_users);
	ADD("/cmds/admin/stats", test_stats);
	ADD("/cmds/admin/online-users", test_online_users);
	ADD("/cmds/admin/announce", test_announce);
	ADD("/cmds/admin/end-user-session", test_end_session);
	ADD("/cmds/admin/delete-user", test_delete_user);
	ADD("/cmds/admin/crash-loop-alert", test_crash_loop_alert);
	ADD("/cmds/admin/quarantine-alert", test_quarantine_alert);
	return g_test_run();
}
