/* Unit tests for backpressure on the legacy side (legacy.h): congestion
 * pauses an account's reading (PAUSE_READ), a login in progress only from
 * its CONNECTED on, and a pause beyond the stall bound logs the session
 * out with a notice to the user, back in when only its own queue was full.
 * The whole transport runs on the fake legacy side (gateway_fixture.h). */
#include "config.h"

#include <string.h>

#include "gateway_fixture.h"

/* The next PAUSE_READ for ACCOUNT: its `paused`. */
static bool take_pause(struct gw *gw, guint32 account)
{
	struct fake_command *c = gw_take_command(gw, WORKER_PAUSE_READ);
	g_assert_cmpuint(c->account, ==, account);
	struct worker_msg_pause_read m;
	g_assert_true(worker_msg_pause_read_read(c->payload, c->account, &m));
	fake_command_free(c);
	return m.paused;
}

/* Takes the transport's chat to ALICE and checks it says why (NEEDLE)
 * and what it means. */
static void expect_notice(struct gw *gw, const char *needle)
{
	struct stanza *m = gw_take_match(gw, "message", "chat", ALICE);
	g_assert_nonnull(m);
	g_assert_cmpstr(stanza_get_from(m), ==, GW_JID);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_nonnull(strstr(body, needle));
	g_assert_nonnull(strstr(body, "may be missing"));
	stanza_free(m);
}

static void test_link_congestion(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	legacy_set_congested(gw->legacy, 0, true);
	g_assert_true(take_pause(gw, account));
	g_assert_true(legacy_paused(gw->legacy, account));
	legacy_set_congested(gw->legacy, account, true); /* still paused: no second frame */
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_PAUSE_READ), ==, 0);
	legacy_set_congested(gw->legacy, 0, false);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_PAUSE_READ), ==, 0);
	legacy_set_congested(gw->legacy, account, false);
	g_assert_false(take_pause(gw, account));
	g_assert_false(legacy_paused(gw->legacy, account));
}

/* Brings bob@example.org (registered first) online: his account. */
static guint32 bob_online(struct gw *gw)
{
	gw_register_user(gw, "bob@example.org", "bob", "pw");
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" GW_JID "'/>");
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = login->account;
	fake_command_free(login);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	gw_clear(gw);
	fake_legacy_clear(gw->fake);
	return account;
}

/* One account's worker turns out dead while the whole link's congestion
 * pauses every account (the loss removes its flow inside the loop): the
 * other accounts are paused all the same, and resumed after. */
static void test_link_congestion_worker_dies(struct gw *gw, gconstpointer unused)
{
	guint32 alice = gw_online(gw, "alice");
	guint32 bob = bob_online(gw);
	for (guint round = 0; round < 2; round++) {
		/* whichever the loop reaches first, the other is still paused */
		guint32 dying = round == 0 ? alice : bob;
		guint32 healthy = round == 0 ? bob : alice;
		fake_legacy_lose_on_send(gw->fake, dying);
		legacy_set_congested(gw->legacy, 0, true);
		g_assert_false(fake_legacy_has_account(gw->fake, dying));
		g_assert_true(take_pause(gw, healthy));
		g_assert_true(legacy_paused(gw->legacy, healthy));
		legacy_set_congested(gw->legacy, 0, false);
		g_assert_false(take_pause(gw, healthy));
		/* the lost one's session logs in again: sign it on for round 2 */
		guint32 back = gw_relogin(gw, dying == alice ? "alice" : "bob");
		if (dying == alice)
			alice = back;
		else
			bob = back;
		gw_clear(gw);
		fake_legacy_clear(gw->fake);
	}
}

/* A login must read to sign on: paused only once CONNECTED. */
static void test_login_not_paused(struct gw *gw, gconstpointer unused)
{
	legacy_set_congested(gw->legacy, 0, true);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = login->account;
	fake_command_free(login);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_PAUSE_READ), ==, 0);
	g_assert_false(legacy_paused(gw->legacy, account));
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	g_assert_true(take_pause(gw, account));
	legacy_set_congested(gw->legacy, 0, false);
	g_assert_false(take_pause(gw, account));
}

static bool has_logout(void *data)
{
	struct gw *gw = data;
	return fake_legacy_count_type(gw->fake, WORKER_LOGOUT) > 0;
}

/* The link stays down beyond the bound: logged out, told, no retry until
 * the link is back (the probe at link up brings the session back). */
static void test_stall_link_down(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	legacy_set_stall_limit(gw->legacy, 1);
	legacy_set_link_down(gw->legacy, true);
	legacy_set_congested(gw->legacy, 0, true);
	g_assert_true(take_pause(gw, account));
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*reading stopped for 1 s*");
	g_assert_true(gw_run_until(has_logout, gw, 3000));
	g_test_assert_expected_messages();
	struct fake_command *c = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	expect_notice(gw, "link to your XMPP server was down");
	gw_run_for(200);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
}

/* The link is up but the server reads slowly: the whole queue stays over
 * its mark beyond the bound. Logged out with a notice that says so (not
 * "the link was down"), and back in a moment: no link up would follow to
 * bring the session back. */
static void test_stall_slow_link(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	legacy_set_stall_limit(gw->legacy, 1);
	legacy_set_congested(gw->legacy, 0, true);
	g_assert_true(take_pause(gw, account));
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*reading stopped for 1 s*");
	g_assert_true(gw_run_until(has_logout, gw, 3000));
	g_test_assert_expected_messages();
	fake_command_free(gw_take_command(gw, WORKER_LOGOUT));
	expect_notice(gw, "reading too slowly");
	g_assert_true(gw_run_until(gw_has_login, gw, 8000));
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	g_assert_cmpuint(login->account, !=, account);
	fake_command_free(login);
}

/* Only this account's own events were stuck: back in a moment. */
static void test_stall_own(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	legacy_set_stall_limit(gw->legacy, 1);
	legacy_set_congested(gw->legacy, account, true);
	g_assert_true(take_pause(gw, account));
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*reading stopped for 1 s*");
	g_assert_true(gw_run_until(has_logout, gw, 3000));
	g_test_assert_expected_messages();
	expect_notice(gw, "was not taking your messages");
	g_assert_true(gw_run_until(gw_has_login, gw, 8000));
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	g_assert_cmpuint(login->account, !=, account);
	fake_command_free(login);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
	ADD("/backpressure/link-congestion", test_link_congestion);
	ADD("/backpressure/link-congestion-worker-dies", test_link_congestion_worker_dies);
	ADD("/backpressure/login-not-paused", test_login_not_paused);
	ADD("/backpressure/stall-link-down", test_stall_link_down);
	ADD("/backpressure/stall-own", test_stall_own);
	ADD("/backpressure/stall-slow-link", test_stall_slow_link);
	return g_test_run();
}
