/* Unit tests for sessions, through the fake legacy side: login on the
 * user's first available presence and logout on the last unavailable, the
 * transport's presence in every state, the legacy status following the
 * best resource, reconnects with backoff, fatal failures, lost workers,
 * paced logins, and a login no worker could take. */
#include "config.h"

#include <string.h>

#include "gateway_fixture.h"
#include "ferry/stanza.h"

/* The <status/> text of presence P ("" when absent). */
static char *status_of(const struct stanza *p)
{
	char *s = stanza_get_child_text(p, "status", NULL);
	return s != NULL ? s : g_strdup("");
}

/* true when P is the unavailable from the transport's bare JID that
 * precedes the run's first presence from its full JID. */
static bool is_bare_clear(const struct stanza *p)
{
	return g_strcmp0(stanza_get_from(p), GW_JID) == 0 &&
	       g_strcmp0(stanza_get_type(p), "unavailable") == 0 &&
	       stanza_find_child(p, "status", NULL) == NULL;
}

/* Takes the transport's presence of TYPE to TO and checks its status text
 * (and show when SHOW is not NULL). */
static void expect_transport_to(struct gw *gw, const char *to, const char *type, const char *status,
                                const char *show)
{
	struct stanza *p = gw_expect(gw, "presence", type, to);
	/* the run's first is preceded by an unavailable from the bare JID
	 * (test_bare_cleared) */
	while (is_bare_clear(p)) {
		stanza_free(p);
		p = gw_expect(gw, "presence", type, to);
	}
	g_assert_cmpstr(stanza_get_from(p), ==, GW_FULL);
	g_autofree char *got = status_of(p);
	g_assert_cmpstr(got, ==, status);
	if (show != NULL) {
		g_autofree char *got_show = stanza_get_child_text(p, "show", NULL);
		g_assert_cmpstr(got_show, ==, show);
	}
	stanza_free(p);
}

/* The same to ALICE's bare JID. */
static void expect_transport(struct gw *gw, const char *type, const char *status, const char *show)
{
	expect_transport_to(gw, ALICE, type, status, show);
}

/* ---- login and logout ---------------------------------------------------------------- */

static void test_login_logout(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	struct worker_msg_login login;
	g_assert_true(worker_msg_login_read(c->payload, c->account, &login));
	g_assert_cmpstr(login.protocol, ==, "prpl-irc");
	g_assert_cmpstr(login.username, ==, "alice@irc.libera.chat");
	g_assert_cmpstr(login.password, ==, "pw");
	g_assert_cmpstr(g_hash_table_lookup(login.options, "port"), ==, "6667");
	g_assert_cmpstr(g_hash_table_lookup(login.options, "ssl"), ==, "false");
	g_assert_cmpuint(login.flags, ==, 0);
	worker_msg_login_clear(&login);
	guint32 account = c->account;
	fake_command_free(c);
	expect_transport(gw, NULL, "Connecting to IRC…", "away");

	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice_");
	expect_transport(gw, NULL, "Connected to IRC as alice_", NULL);

	/* A second resource changes nothing on the legacy side but is told
	 * the transport's state. */
	gw_inject(gw, "<presence from='" ALICE "/phone' to='" GW_JID "'/>");
	expect_transport_to(gw, ALICE "/phone", NULL, "Connected to IRC as alice_", NULL);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);

	/* One resource leaves: still online; the last: logged out. */
	gw_inject(gw, "<presence from='" ALICE "/phone' to='" GW_JID "' type='unavailable'/>");
	g_assert_true(fake_legacy_has_account(gw->fake, account));
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	c = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	expect_transport(gw, "unavailable", "", NULL);
	g_assert_false(fake_legacy_has_account(gw->fake, account));
}

/* The user leaves and comes back while the logged-out account's worker
 * still reports on it: its late sign-on or status is not the new login's,
 * and its network error (which can reach the worker before the LOGOUT)
 * is its last word, not a reason to log the new login out. */
static void test_left_account_late_events(struct gw *gw, gconstpointer unused)
{
	fake_legacy_linger_on_logout(gw->fake, true);
	guint32 old = gw_online(gw, "alice");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	fake_command_free(gw_take_command(gw, WORKER_LOGOUT));
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = c->account;
	fake_command_free(c);
	g_assert_cmpuint(account, !=, old);
	gw_clear(gw);

	FAKE_EMIT(gw->fake, connected, .account = old, .nick = "alice_old");
	FAKE_EMIT(gw->fake, buddy_status, .account = old, .name = "bob", .alias = "bob",
	          .status = WORKER_STATUS_AVAILABLE, .message = "");
	gw_expect_nothing(gw);
	FAKE_EMIT(gw->fake, disconnected, .account = old, .reason = WORKER_REASON_NETWORK,
	          .text = "Connection reset", .fatal = false);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	g_assert_true(fake_legacy_has_account(gw->fake, account));
	gw_expect_nothing(gw);

	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	expect_transport(gw, NULL, "Connected to IRC as alice", NULL);
}

/* Unregistered users get no session: nothing logs in. */
static void test_unregistered(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" GW_JID "'/>");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	/* Their probe of the transport says it is unavailable to them. */
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" GW_JID "' type='probe'/>");
	stanza_free(gw_expect(gw, "presence", "unavailable", "bob@example.org"));
}

/* Users of other domains are refused, never logged in. */
static void test_foreign_domain(struct gw *gw, gconstpointer unused)
{
	gw_register_user(gw, "eve@evil.org", "eve", "pw");
	gw_inject(gw, "<presence from='eve@evil.org/pc' to='" GW_JID "'/>");
	struct stanza *e = gw_expect(gw, "presence", "error", "eve@evil.org/pc");
	g_free(test_error_text(e, "forbidden"));
	stanza_free(e);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* ---- the legacy status follows the best resource -------------------------------------- */

static guint32 take_status(struct gw *gw, char **message)
{
	struct fake_command *c = gw_take_command(gw, WORKER_SET_STATUS);
	struct worker_msg_set_status m;
	g_assert_true(worker_msg_set_status_read(c->payload, c->account, &m));
	guint32 status = m.status;
	*message = g_strdup(m.message);
	worker_msg_set_status_clear(&m);
	fake_command_free(c);
	return status;
}

static void test_status_follows_best_resource(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	g_autofree char *msg = NULL;
	/* at equal priority the newest resource wins */
	gw_inject(gw,
	          "<presence from='" ALICE "/tablet' to='" GW_JID "'><show>xa</show></presence>");
	g_assert_cmpuint(take_status(gw, &msg), ==, WORKER_STATUS_XA);
	g_clear_pointer(&msg, g_free);
	gw_inject(gw, "<presence from='" ALICE "/tablet' to='" GW_JID "' type='unavailable'/>");
	g_assert_cmpuint(take_status(gw, &msg), ==, WORKER_STATUS_AVAILABLE);
	g_clear_pointer(&msg, g_free);
	/* away at priority 5 beats the available pc at priority 0 */
	gw_inject(gw, "<presence from='" ALICE "/phone' to='" GW_JID "'><show>away</show>"
	              "<status>on the bus</status><priority>5</priority></presence>");
	g_assert_cmpuint(take_status(gw, &msg), ==, WORKER_STATUS_AWAY);
	g_assert_cmpstr(msg, ==, "on the bus");
	g_clear_pointer(&msg, g_free);
	/* the pc at a higher priority, dnd */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'><show>dnd</show>"
	              "<priority>9</priority></presence>");
	g_assert_cmpuint(take_status(gw, &msg), ==, WORKER_STATUS_DND);
	g_assert_cmpstr(msg, ==, "");
	g_clear_pointer(&msg, g_free);
	/* the same again: nothing sent */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'><show>dnd</show>"
	              "<priority>9</priority></presence>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SET_STATUS), ==, 0);
	/* the pc leaves: the phone's away wins again */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	g_assert_cmpuint(take_status(gw, &msg), ==, WORKER_STATUS_AWAY);
	g_assert_cmpstr(msg, ==, "on the bus");
	g_clear_pointer(&msg, g_free);
	/* xa and chat */
	gw_inject(gw, "<presence from='" ALICE "/phone' to='" GW_JID "'><show>xa</show>"
	              "<priority>5</priority></presence>");
	g_assert_cmpuint(take_status(gw, &msg), ==, WORKER_STATUS_XA);
	g_clear_pointer(&msg, g_free);
	gw_inject(gw, "<presence from='" ALICE "/phone' to='" GW_JID "'><show>chat</show>"
	              "<priority>5</priority></presence>");
	g_assert_cmpuint(take_status(gw, &msg), ==, WORKER_STATUS_AVAILABLE);
}

/* ---- failures and retries ------------------------------------------------------------ */

/* A network loss retries after a backoff (1 s with jitter for the first);
 * the user sees "Reconnecting…" meanwhile. */
static void test_reconnect_with_backoff(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "Connection reset by peer", .fatal = false);
	expect_transport(gw, NULL, "Reconnecting to IRC…", "away");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	/* not before half a second (the smallest jittered first delay) */
	gw_run_for(400);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	g_assert_true(gw_run_until(gw_has_login, gw, 3000));
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 again = c->account;
	fake_command_free(c);
	g_assert_cmpuint(again, !=, account);
	FAKE_EMIT(gw->fake, connected, .account = again, .nick = "alice");
	expect_transport(gw, NULL, "Connected to IRC as alice", NULL);
}

/* A second loss in a row waits longer (about 2 s with jitter): the
 * backoff doubles while logins keep failing. */
static void test_backoff_grows(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "down", .fatal = false);
	g_assert_true(gw_run_until(gw_has_login, gw, 3000));
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 second = c->account;
	fake_command_free(c);
	gint64 t0 = g_get_monotonic_time();
	FAKE_EMIT(gw->fake, disconnected, .account = second, .reason = WORKER_REASON_TIMEOUT,
	          .text = "no sign-on within 60 s", .fatal = false);
	g_assert_true(gw_run_until(gw_has_login, gw, 5000));
	/* the second delay is 2 s x [0.5, 1): never under one second */
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 990 * 1000);
}

/* A wrong password is fatal: the user gets a presence error and a chat
 * message, and nothing is retried until a resource comes online anew. */
static void test_fatal_failure(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = c->account;
	fake_command_free(c);
	gw_clear(gw);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*alice@example.org: login failed for good: Incorrect password");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_AUTH,
	          .text = "Incorrect password", .fatal = true);
	g_test_assert_expected_messages();
	struct stanza *e = gw_expect(gw, "presence", "error", ALICE);
	/* from the address alice's presence went to */
	g_assert_cmpstr(stanza_get_from(e), ==, GW_JID);
	const struct stanza *err = stanza_find_child(e, "error", NULL);
	g_assert_nonnull(stanza_find_child(err, "not-authorized", STANZA_NS_STANZAS));
	g_autofree char *text = stanza_get_child_text(err, "text", STANZA_NS_STANZAS);
	g_assert_cmpstr(text, ==, "Incorrect password");
	stanza_free(e);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(body, ==, "Could not log in to IRC: Incorrect password");
	stanza_free(m);

	/* no retry, even after a while; the same resource again: told, no login */
	gw_run_for(1600);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'><show>away</show></presence>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	expect_transport(gw, "unavailable", "Incorrect password", NULL);
	/* a new resource tries again */
	gw_inject(gw, "<presence from='" ALICE "/laptop' to='" GW_JID "'/>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 1);
	expect_transport(gw, NULL, "Connecting to IRC…", "away");
}

/* Each reason maps to its XMPP error condition. */
static void test_failure_conditions(struct gw *gw, gconstpointer unused)
{
	const struct {
		guint32 reason;
		const char *condition;
	} cases[] = {
	    {WORKER_REASON_AUTH, "not-authorized"},
	    {WORKER_REASON_NAME_IN_USE, "conflict"},
	    {WORKER_REASON_CERTIFICATE, "not-acceptable"},
	    {WORKER_REASON_INVALID, "not-acceptable"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *resource = g_strdup_printf(ALICE "/r%zu", i);
		gw_injectf(gw, "<presence from='%s' to='" GW_JID "'/>", resource);
		guint32 account = fake_legacy_last_account(gw->fake);
		fake_legacy_clear(gw->fake);
		gw_clear(gw);
		g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*login failed for good*");
		FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = cases[i].reason,
		          .text = "no", .fatal = true);
		g_test_assert_expected_messages();
		struct stanza *e = gw_expect(gw, "presence", "error", ALICE);
		g_assert_nonnull(stanza_find_child(stanza_find_child(e, "error", NULL),
		                                   cases[i].condition, STANZA_NS_STANZAS));
		stanza_free(e);
	}
}

/* The worker hosting the account died: back within about 0.5-1.5 s,
 * without telling the user anything but "Reconnecting…". */
static void test_worker_lost(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	fake_legacy_lose(gw->fake, account);
	expect_transport(gw, NULL, "Reconnecting to IRC…", "away");
	g_assert_null(gw_take_match(gw, "message", "*", NULL));
	g_assert_true(gw_run_until(gw_has_login, gw, 3000));
}

/* The worker dies while the user's logout reads its last
 * acknowledgements: the session ends as a logout, not as a loss (no
 * "Reconnecting…", no new login). */
static void test_worker_dies_during_logout(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	fake_legacy_die_on_logout(gw->fake);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	expect_transport(gw, "unavailable", "", NULL);
	g_assert_null(gw_take_match(gw, "presence", NULL, ALICE));
	gw_run_for(1600);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	g_assert_null(gw_take_match(gw, "presence", "*", NULL));
}

/* No worker could take the login: retried with backoff. */
static void test_no_worker(struct gw *gw, gconstpointer unused)
{
	fake_legacy_fail_logins(gw->fake, 1);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*alice@example.org: no worker for the login: no worker (scripted)");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	g_test_assert_expected_messages();
	expect_transport(gw, NULL, "Reconnecting to IRC…", "away");
	g_assert_true(gw_run_until(gw_has_login, gw, 3000));
}

/* The user removes the transport from the roster: logged out. */
static void test_unsubscribe_logs_out(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw, "<presence from='" ALICE "' to='" GW_JID "' type='unsubscribe'/>");
	struct fake_command *c = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
}

/* A probe of the transport is answered with its state; subscriptions of
 * registered users are approved. */
static void test_probe_and_subscribe(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='probe'/>");
	struct stanza *p = gw_expect(gw, "presence", NULL, ALICE_PC);
	g_autofree char *status = status_of(p);
	g_assert_cmpstr(status, ==, "Connected to IRC as alice");
	stanza_free(p);
	gw_inject(gw, "<presence from='" ALICE "' to='" GW_JID "' type='subscribe'/>");
	stanza_free(gw_expect(gw, "presence", "subscribed", ALICE));
	gw_inject(gw, "<presence from='bob@example.org' to='" GW_JID "' type='subscribe'/>");
	stanza_free(gw_expect(gw, "presence", "unsubscribed", "bob@example.org"));
}

/* ---- paced logins -------------------------------------------------------------------------- */

/* At one login a second with a burst of one, the second user waits for
 * their turn ("Connecting…" meanwhile) and then logs in. */
static void test_paced(struct gw *gw, gconstpointer unused)
{
	gw_register_user(gw, "bob@example.org", "bob", "pw");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" GW_JID "'/>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 1);
	stanza_free(gw_expect(gw, "presence", NULL, "bob@example.org"));
	fake_legacy_clear(gw->fake);
	g_assert_true(gw_run_until(gw_has_login, gw, 2500));
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	struct worker_msg_login login;
	g_assert_true(worker_msg_login_read(c->payload, c->account, &login));
	g_assert_cmpstr(login.username, ==, "bob@irc.libera.chat");
	worker_msg_login_clear(&login);
	fake_command_free(c);
}

/* A user who leaves while waiting in line never logs in. */
static void test_paced_user_leaves(struct gw *gw, gconstpointer unused)
{
	gw_register_user(gw, "bob@example.org", "bob", "pw");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" GW_JID "'/>");
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" GW_JID "' type='unavailable'/>");
	fake_legacy_clear(gw->fake);
	gw_run_for(1500);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
}

/* At link-up every registered user is probed, and an online session tells
 * its state again. */
static void test_link_up(struct gw *gw, gconstpointer unused)
{
	gw_register_user(gw, "bob@example.org", "bob", "pw");
	(void)gw_online(gw, "alice");
	gateway_link_up(gw->gateway);
	stanza_free(gw_expect(gw, "presence", "probe", ALICE));
	stanza_free(gw_expect(gw, "presence", "probe", "bob@example.org"));
	expect_transport(gw, NULL, "Connected to IRC as alice", NULL);
}

/* ---- presence from the full JID ------------------------------------------------------------ */

/* The transport's presence comes from its full JID with XEP-0115 caps of
 * its disco#info; the run's first is preceded by one unavailable from the
 * bare JID (older versions' address), never again; at shutdown the user
 * sees it go unavailable from the full JID. */
static void test_full_jid_presence(struct gw *gw, gconstpointer unused)
{
	const char *ver = disco_caps_ver(gw->disco);
	g_autofree char *caps = g_strdup_printf("<c xmlns='http://jabber.org/protocol/caps' "
	                                        "hash='sha-1' node='urn:x-ferry:caps' ver='%s'/>",
	                                        ver);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = login->account;
	fake_command_free(login);
	gw_expect_next(gw, "<presence from='" GW_JID "' to='" ALICE "' type='unavailable'/>");
	g_autofree char *connecting =
	    g_strdup_printf("<presence from='" GW_FULL "' to='" ALICE "'><show>away</show>"
	                    "<status>Connecting to IRC…</status>%s</presence>",
	                    caps);
	gw_expect_next(gw, connecting);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice1");
	g_autofree char *connected = g_strdup_printf("<presence from='" GW_FULL "' to='" ALICE
	                                             "'><status>Connected to IRC as alice1</status>"
	                                             "%s</presence>",
	                                             caps);
	gw_expect_next(gw, connected);
	gw_clear(gw);
	/* a probe is answered from the full JID only */
	gw_inject(gw, "<presence from='" ALICE "' to='" GW_JID "' type='probe'/>");
	gw_expect_next(gw, connected);
	gw_expect_nothing(gw);
	/* the transport stops */
	g_clear_pointer(&gw->gateway, gateway_free);
	gw_expect_next(gw, "<presence from='" GW_FULL "' to='" ALICE "' type='unavailable'>"
	                   "<status>The transport is shutting down</status></presence>");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn, extra) g_test_add(path, struct gw, extra, gw_test_setup, fn, gw_test_teardown)
	ADD("/session/login-logout", test_login_logout, NULL);
	ADD("/session/left-account-late-events", test_left_account_late_events, NULL);
	ADD("/session/unregistered", test_unregistered, NULL);
	ADD("/session/foreign-domain", test_foreign_domain, NULL);
	ADD("/session/status-follows-best-resource", test_status_follows_best_resource, NULL);
	ADD("/session/reconnect-with-backoff", test_reconnect_with_backoff, NULL);
	ADD("/session/backoff-grows", test_backoff_grows, NULL);
	ADD("/session/fatal-failure", test_fatal_failure, NULL);
	ADD("/session/failure-conditions", test_failure_conditions, NULL);
	ADD("/session/worker-lost", test_worker_lost, NULL);
	ADD("/session/worker-dies-during-logout", test_worker_dies_during_logout, NULL);
	ADD("/session/no-worker", test_no_worker, NULL);
	ADD("/session/unsubscribe-logs-out", test_unsubscribe_logs_out, NULL);
	ADD("/session/probe-and-subscribe", test_probe_and_subscribe, NULL);
	ADD("/session/paced", test_paced, "[workers]\nlogin_rate = 1\nlogin_burst = 1\n");
	ADD("/session/paced-user-leaves", test_paced_user_leaves,
	    "[workers]\nlogin_rate = 1\nlogin_burst = 1\n");
	ADD("/session/link-up", test_link_up, NULL);
	ADD("/session/full-jid-presence", test_full_jid_presence, NULL);
	return g_test_run();
}
