/* Unit tests for registration through the fake legacy side: the form,
 * the test login and its outcomes (stored and answered only on success),
 * the checked login handed to the session instead of a second login,
 * updates, unregistration, refusals, and jabber:iq:gateway. */
#include "config.h"

#include <string.h>

#include "gateway_fixture.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define BOB "bob@example.org"
#define BOB_PC "bob@example.org/pc"

static void setup(struct gw *gw, gconstpointer extra)
{
	gw_setup(gw, extra);
}

/* Sends a registration of BOB with the form's nick NICK and password PW. */
static void submit(struct gw *gw, const char *id, const char *nick, const char *pw)
{
	gw_injectf(gw,
	           "<iq type='set' id='%s' from='" BOB_PC "' to='" GW_JID "'>"
	           "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>"
	           "<field var='FORM_TYPE'><value>jabber:iq:register</value></field>"
	           "<field var='username'><value>%s</value></field>"
	           "<field var='password'><value>%s</value></field>"
	           "<field var='port'><value>6697</value></field>"
	           "<field var='ssl'><value>1</value></field>"
	           "</x></query></iq>",
	           id, nick, pw);
}

/* Takes the test login the registration started; returns its account. */
static guint32 take_test_login(struct gw *gw, const char *username, const char *password)
{
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_LOGIN);
	g_assert_nonnull(c);
	struct worker_msg_login m;
	g_assert_true(worker_msg_login_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.flags, ==, WORKER_LOGIN_TEST);
	g_assert_cmpstr(m.username, ==, username);
	g_assert_cmpstr(m.password, ==, password);
	g_assert_cmpstr(g_hash_table_lookup(m.options, "port"), ==, "6697");
	g_assert_cmpstr(g_hash_table_lookup(m.options, "ssl"), ==, "true");
	worker_msg_login_clear(&m);
	guint32 account = c->account;
	fake_command_free(c);
	return account;
}

/* Takes the iq error answering ID and checks its condition and text. */
static void expect_iq_error(struct gw *gw, const char *id, const char *to, const char *condition,
                            const char *text)
{
	struct stanza *e = gw_expect(gw, "iq", "error", to);
	g_assert_cmpstr(stanza_get_id(e), ==, id);
	g_autofree char *got = test_error_text(e, condition);
	if (text != NULL)
		g_assert_cmpstr(got, ==, text);
	stanza_free(e);
}

static bool registered(struct gw *gw, const char *bare)
{
	g_autoptr(GError) err = NULL;
	GHashTable *settings = storage_user_settings(gw->storage, bare, &err);
	g_assert_no_error(err);
	if (settings != NULL)
		g_hash_table_unref(settings);
	return settings != NULL;
}

/* ---- the form ---------------------------------------------------------------------------- */

static void test_form(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<iq type='get' id='g1' from='" BOB_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'/></iq>");
	struct stanza *r = gw_expect(gw, "iq", "result", BOB_PC);
	g_assert_cmpstr(stanza_get_id(r), ==, "g1");
	const struct stanza *q = stanza_find_child(r, "query", "jabber:iq:register");
	g_assert_nonnull(q);
	g_assert_null(stanza_find_child(q, "registered", NULL));
	const struct stanza *x = stanza_find_child(q, "x", "jabber:x:data");
	g_assert_cmpstr(stanza_get_attr(x, "type"), ==, "form");
	const char *vars[] = {"FORM_TYPE", "username", "password", "server", "port", "ssl"};
	gsize n = 0;
	for (struct stanza *f = stanza_next_child(x, NULL); f != NULL;
	     f = stanza_next_child(x, f)) {
		if (strcmp(stanza_name(f), "field") != 0)
			continue;
		g_assert_cmpuint(n, <, G_N_ELEMENTS(vars));
		g_assert_cmpstr(stanza_get_attr(f, "var"), ==, vars[n++]);
	}
	g_assert_cmpuint(n, ==, G_N_ELEMENTS(vars));
	stanza_free(r);

	/* once registered: <registered/>, the stored values, never the password */
	gw_register_user(gw, BOB, "bobby", "secret-pw");
	gw_inject(gw, "<iq type='get' id='g2' from='" BOB_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'/></iq>");
	r = gw_expect(gw, "iq", "result", BOB_PC);
	q = stanza_find_child(r, "query", "jabber:iq:register");
	g_assert_nonnull(stanza_find_child(q, "registered", NULL));
	g_autofree char *user = stanza_get_child_text(q, "username", NULL);
	g_assert_cmpstr(user, ==, "bobby");
	g_autofree char *xml = stanza_to_string(r);
	g_assert_null(strstr(xml, "secret-pw"));
	stanza_free(r);
}

/* ---- the test login ------------------------------------------------------------------------ */

/* Success: stored, answered, subscription asked; the user's presence then
 * continues the checked login (KEEP) instead of logging in again. */
static void test_register_and_keep(struct gw *gw, gconstpointer unused)
{
	submit(gw, "r1", "bob", "pw");
	guint32 account = take_test_login(gw, "bob@irc.libera.chat", "pw");
	g_assert_cmpuint(gw_sent_count(gw), ==, 0); /* nothing answered yet */
	g_assert_false(registered(gw, BOB));

	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	struct stanza *r = gw_expect(gw, "iq", "result", BOB_PC);
	g_assert_cmpstr(stanza_get_id(r), ==, "r1");
	stanza_free(r);
	/* the transport asks to be in the roster, under its name (XEP-0172) */
	struct stanza *sub = gw_expect(gw, "presence", "subscribe", BOB);
	g_autofree char *nick = stanza_get_child_text(sub, "nick", NS_NICK);
	g_assert_cmpstr(nick, ==, "irc transport"); /* [legacy] name, default */
	stanza_free(sub);
	g_assert_true(registered(gw, BOB));
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(gw->storage, BOB, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(u->password, ==, "pw");
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "port"), ==, "6697");
	storage_user_free(u);
	/* the test account is not logged out */
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);

	gw_inject(gw, "<presence from='" BOB_PC "' to='" GW_JID "'/>");
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_KEEP);
	g_assert_nonnull(c);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	struct stanza *p = gw_expect(gw, "presence", NULL, BOB);
	g_autofree char *status = stanza_get_child_text(p, "status", NULL);
	g_assert_cmpstr(status, ==, "Connected to IRC as bob");
	stanza_free(p);
}

/* The kept login ends before the session takes it: the session logs in
 * anew. */
static void test_kept_login_lost(struct gw *gw, gconstpointer unused)
{
	submit(gw, "r1", "bob", "pw");
	guint32 account = take_test_login(gw, "bob@irc.libera.chat", "pw");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "reset", .fatal = false);
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_LOGOUT);
	g_assert_nonnull(c);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	gw_inject(gw, "<presence from='" BOB_PC "' to='" GW_JID "'/>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_KEEP), ==, 0);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 1);
}

static bool has_logout(void *data)
{
	struct gw *gw = data;
	return fake_legacy_count_type(gw->fake, WORKER_LOGOUT) > 0;
}

static bool has_login(void *data)
{
	struct gw *gw = data;
	return fake_legacy_count_type(gw->fake, WORKER_LOGIN) > 0;
}

static bool has_keep(void *data)
{
	struct gw *gw = data;
	return fake_legacy_count_type(gw->fake, WORKER_KEEP) > 0;
}

/* No session takes the kept login in time (the user went offline): what
 * it held is released (KEEP) and reaches the user's bare JID, where the
 * server keeps it offline, delay-stamped; then the login ends. */
static void test_kept_login_expires(struct gw *gw, gconstpointer unused)
{
	gw->settings->kept_login_ms = 50;
	gw_restart(gw);
	submit(gw, "r1", "bob", "pw");
	guint32 account = take_test_login(gw, "bob@irc.libera.chat", "pw");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	gw_clear(gw);
	g_assert_true(gw_run_until(has_keep, gw, 5000));
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_KEEP);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	/* the replay */
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "Carol", .text = "welcome!",
	          .when = g_get_real_time() / G_USEC_PER_SEC - 30);
	FAKE_EMIT(gw->fake, notice, .account = account, .title = "Messages lost",
	          .text = "3 events were too many to keep");
	struct stanza *m = gw_expect(gw, "message", "chat", BOB);
	g_assert_cmpstr(stanza_get_from(m), ==, "Carol@" GW_JID "/ferry");
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(body, ==, "welcome!");
	g_assert_nonnull(stanza_find_child(m, "delay", NS_DELAY));
	stanza_free(m);
	m = gw_expect(gw, "message", "chat", BOB);
	g_assert_cmpstr(stanza_get_from(m), ==, GW_JID);
	g_autofree char *notice = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(notice, ==, "Messages lost: 3 events were too many to keep");
	stanza_free(m);
	/* a session arriving now logs in anew: this login is on its way out */
	g_assert_true(gw_run_until(has_logout, gw, 5000));
	c = fake_legacy_take_type(gw->fake, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
}

/* The kept login's worker died: forgotten; the session logs in anew. */
static void test_kept_login_worker_lost(struct gw *gw, gconstpointer unused)
{
	submit(gw, "r1", "bob", "pw");
	guint32 account = take_test_login(gw, "bob@irc.libera.chat", "pw");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	fake_legacy_lose(gw->fake, account);
	gw_inject(gw, "<presence from='" BOB_PC "' to='" GW_JID "'/>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_KEEP), ==, 0);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 1);
}

/* Wrong credentials: not-authorized with the network's reason; nothing
 * stored; the test account logged out. Other failures: not-acceptable. */
static void test_failures(struct gw *gw, gconstpointer unused)
{
	const struct {
		guint32 reason;
		const char *condition;
	} cases[] = {
	    {WORKER_REASON_AUTH, "not-authorized"},
	    {WORKER_REASON_NAME_IN_USE, "not-acceptable"},
	    {WORKER_REASON_NETWORK, "not-acceptable"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		submit(gw, "r1", "bob", "pw");
		guint32 account = take_test_login(gw, "bob@irc.libera.chat", "pw");
		FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = cases[i].reason,
		          .text = "Nickname is already in use", .fatal = true);
		expect_iq_error(gw, "r1", BOB_PC, cases[i].condition,
		                "IRC login failed: Nickname is already in use");
		g_assert_false(registered(gw, BOB));
		struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_LOGOUT);
		g_assert_nonnull(c);
		fake_command_free(c);
		g_assert_cmpuint(gw_sent_count(gw), ==, 0); /* no subscribe */
	}
}

/* The worker of the test login died: the user is told to try again. */
static void test_worker_lost(struct gw *gw, gconstpointer unused)
{
	submit(gw, "r1", "bob", "pw");
	guint32 account = take_test_login(gw, "bob@irc.libera.chat", "pw");
	fake_legacy_lose(gw->fake, account);
	expect_iq_error(gw, "r1", BOB_PC, "internal-server-error",
	                "the login check was interrupted; please try again");
	g_assert_false(registered(gw, BOB));
}

/* No worker could start the test login. */
static void test_no_worker(struct gw *gw, gconstpointer unused)
{
	fake_legacy_fail_logins(gw->fake, 1);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*bob@example.org: cannot start a test login*");
	submit(gw, "r1", "bob", "pw");
	g_test_assert_expected_messages();
	expect_iq_error(gw, "r1", BOB_PC, "internal-server-error",
	                "the transport cannot log in right now");
}

/* A second registration while one is being checked. */
static void test_conflict(struct gw *gw, gconstpointer unused)
{
	submit(gw, "r1", "bob", "pw");
	submit(gw, "r2", "bob", "pw2");
	expect_iq_error(gw, "r2", BOB_PC, "conflict",
	                "a registration of yours is already being checked");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 1);
}

/* Submissions the form refuses are answered not-acceptable, naming the
 * field; no login is tried. */
static void test_bad_submissions(struct gw *gw, gconstpointer unused)
{
	const struct {
		const char *query;
		const char *text;
	} cases[] = {
	    {"<x xmlns='jabber:x:data' type='submit'/>",
	     "the field 'username' (Nickname) is required"},
	    {"<x xmlns='jabber:x:data' type='submit'><field var='username'><value>bob</value>"
	     "</field><field var='port'><value>http</value></field></x>",
	     "'http' is not a valid value for 'port' (Port)"},
	    {"<username>bob&#10;QUIT</username>",
	     "'username' (Nickname) must be a single line without control characters"},
	    {"<x xmlns='jabber:x:data' type='form'/>", "the form must be of type 'submit'"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		gw_injectf(gw,
		           "<iq type='set' id='b%zu' from='" BOB_PC "' to='" GW_JID "'>"
		           "<query xmlns='jabber:iq:register'>%s</query></iq>",
		           i, cases[i].query);
		g_autofree char *id = g_strdup_printf("b%zu", i);
		expect_iq_error(gw, id, BOB_PC, "not-acceptable", cases[i].text);
	}
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* Users of other domains may not register, nor read the form. */
static void test_foreign_domain(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<iq type='get' id='f1' from='eve@evil.org/pc' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'/></iq>");
	expect_iq_error(gw, "f1", "eve@evil.org/pc", "forbidden",
	                GW_JID " serves users of " GW_DOMAIN " only");
	gw_inject(gw, "<iq type='set' id='f2' from='eve@evil.org/pc' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><username>eve</username></query></iq>");
	expect_iq_error(gw, "f2", "eve@evil.org/pc", "forbidden", NULL);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* New credentials while online: stored, and the session logs in again
 * with the checked login. */
static void test_update_while_online(struct gw *gw, gconstpointer unused)
{
	gw_register_user(gw, ALICE, "alice", "old");
	guint32 first = gw_online(gw, "alice");
	gw_inject(gw, "<iq type='set' id='u1' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><username>alice2</username>"
	              "<password>new</password></query></iq>");
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_LOGIN);
	g_assert_nonnull(c);
	guint32 test = c->account;
	fake_command_free(c);
	FAKE_EMIT(gw->fake, connected, .account = test, .nick = "alice2");
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	stanza_free(r);
	g_assert_null(gw_take_match(gw, "presence", "subscribe", ALICE)); /* known already */
	/* the old login went, the checked one stays as the session's */
	c = fake_legacy_take_type(gw->fake, WORKER_LOGOUT);
	g_assert_nonnull(c);
	g_assert_cmpuint(c->account, ==, first);
	fake_command_free(c);
	c = fake_legacy_take_type(gw->fake, WORKER_KEEP);
	g_assert_nonnull(c);
	g_assert_cmpuint(c->account, ==, test);
	fake_command_free(c);
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(gw->storage, ALICE, &err);
	g_assert_cmpstr(u->password, ==, "new");
	storage_user_free(u);
}

/* The same while the worker dies as the old login is logged out (it hosts
 * both): the registration is answered once, the checked login is gone
 * with the worker, and the session logs in anew, once. */
static void test_update_while_worker_dies(struct gw *gw, gconstpointer unused)
{
	gw_register_user(gw, ALICE, "alice", "old");
	(void)gw_online(gw, "alice");
	gw_inject(gw, "<iq type='set' id='u1' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><username>alice2</username>"
	              "<password>new</password></query></iq>");
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_LOGIN);
	guint32 test = c->account;
	fake_command_free(c);
	fake_legacy_die_on_logout(gw->fake);
	FAKE_EMIT(gw->fake, connected, .account = test, .nick = "alice2");
	stanza_free(gw_expect(gw, "iq", "result", ALICE_PC));
	g_assert_null(gw_take_match(gw, "iq", "error", NULL));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_KEEP), ==, 0);
	c = fake_legacy_take_type(gw->fake, WORKER_LOGIN);
	g_assert_nonnull(c);
	struct worker_msg_login m;
	g_assert_true(worker_msg_login_read(c->payload, c->account, &m));
	g_assert_cmpstr(m.username, ==, "alice2@irc.libera.chat");
	g_assert_cmpstr(m.password, ==, "new");
	g_assert_cmpuint(m.flags, ==, 0);
	worker_msg_login_clear(&m);
	fake_command_free(c);
	/* and no second login later from a retry the loss had scheduled */
	gw_run_for(1600);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
}

/* ---- unregistration ------------------------------------------------------------------------- */

static void test_unregister(struct gw *gw, gconstpointer unused)
{
	gw_register_user(gw, ALICE, "alice", "pw");
	g_autoptr(GError) err = NULL;
	g_assert_true(storage_contact_put(gw->storage, ALICE, "carol", 0, &err));
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw, "<iq type='set' id='x1' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><remove/></query></iq>");
	/* the contact leaves the roster, the session ends, the user is gone */
	stanza_free(gw_expect(gw, "presence", "unsubscribe", ALICE));
	struct stanza *p = gw_expect(gw, "presence", "unsubscribed", ALICE);
	g_assert_cmpstr(stanza_get_from(p), ==, "carol@" GW_JID);
	stanza_free(p);
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(r), ==, "x1");
	stanza_free(r);
	g_assert_false(registered(gw, ALICE));
	/* and the transport leaves the roster */
	const char *types[] = {"unsubscribe", "unsubscribed", "unavailable"};
	/* subscriptions from the bare JID, presence from the full one */
	const char *froms[] = {GW_JID, GW_JID, GW_FULL};
	for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
		struct stanza *t = NULL;
		while ((t = gw_take_match(gw, "presence", types[i], ALICE)) != NULL &&
		       strcmp(stanza_get_from(t), froms[i]) != 0)
			stanza_free(t);
		g_assert_nonnull(t);
		stanza_free(t);
	}

	/* again: not registered */
	gw_inject(gw, "<iq type='set' id='x2' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><remove/></query></iq>");
	expect_iq_error(gw, "x2", ALICE_PC, "registration-required", "you are not registered");
	/* <remove/> must come alone */
	gw_inject(gw, "<iq type='set' id='x3' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><remove/><username>a</username>"
	              "</query></iq>");
	expect_iq_error(gw, "x3", ALICE_PC, "bad-request", "<remove/> must come alone");
}

/* Registrations still being checked when the transport stops are told. */
static void test_shutdown_answers_pending(struct gw *gw, gconstpointer unused)
{
	submit(gw, "r1", "bob", "pw");
	gateway_free(gw->gateway);
	gw->gateway = NULL;
	expect_iq_error(gw, "r1", BOB_PC, "service-unavailable", "the transport is shutting down");
}

/* ---- jabber:iq:gateway ------------------------------------------------------------------------ */

static void test_iq_gateway(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<iq type='get' id='q1' from='" BOB_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:gateway'/></iq>");
	struct stanza *r = gw_expect(gw, "iq", "result", BOB_PC);
	const struct stanza *q = stanza_find_child(r, "query", "jabber:iq:gateway");
	g_autofree char *desc = stanza_get_child_text(q, "desc", NULL);
	g_autofree char *prompt = stanza_get_child_text(q, "prompt", NULL);
	g_assert_cmpstr(desc, ==, "Enter the IRC name of the contact to add.");
	g_assert_cmpstr(prompt, ==, "Contact ID");
	stanza_free(r);

	gw_inject(gw,
	          "<iq type='set' id='q2' from='" BOB_PC "' to='" GW_JID "'>"
	          "<query xmlns='jabber:iq:gateway'><prompt> John Smith </prompt></query></iq>");
	r = gw_expect(gw, "iq", "result", BOB_PC);
	g_autofree char *jid =
	    stanza_get_child_text(stanza_find_child(r, "query", NULL), "jid", NULL);
	g_assert_cmpstr(jid, ==, "John\\20Smith@" GW_JID);
	stanza_free(r);

	gw_inject(gw, "<iq type='set' id='q3' from='" BOB_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:gateway'><prompt>   </prompt></query></iq>");
	expect_iq_error(gw, "q3", BOB_PC, "not-acceptable",
	                "that is not a legacy name a JID can carry");
}

/* The network gave the check login another nick (IRC: "bob" is taken, so
 * "bob1"): refused with conflict naming the nick, nothing stored, the
 * check login logged out -- never a silent "bob1". */
static void test_name_taken(struct gw *gw, gconstpointer unused)
{
	submit(gw, "r1", "bob", "pw");
	guint32 account = take_test_login(gw, "bob@irc.libera.chat", "pw");
	FAKE_EMIT(gw->fake, name_fallback, .account = account, .wanted = "bob", .given = "bob1");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob1");
	expect_iq_error(gw, "r1", BOB_PC, "conflict",
	                "the nick bob is taken on IRC; choose another");
	g_assert_false(registered(gw, BOB));
	struct fake_command *c = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	gw_expect_nothing(gw); /* no subscribe */
	/* nothing is kept for a session */
	gw_inject(gw, "<presence from='" BOB_PC "' to='" GW_JID "'/>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_KEEP), ==, 0);
}

/* The check login a registration of alice started signs on as "alice1"
 * (libpurple's fallback: someone holds "alice"). Returns its account. */
static guint32 check_login_falls_back(struct gw *gw)
{
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 test = c->account;
	fake_command_free(c);
	FAKE_EMIT(gw->fake, name_fallback, .account = test, .wanted = "alice", .given = "alice1");
	FAKE_EMIT(gw->fake, connected, .account = test, .nick = "alice1");
	return test;
}

/* Re-registering while one's own session holds the nick: the check login
 * falls back ("alice1") because of that session, so the settings are
 * stored, the check login goes, and the session goes on untouched. */
static void test_reregister_own_nick(struct gw *gw, gconstpointer unused)
{
	guint32 session = gw_online(gw, "Alice");
	gw_inject(gw, "<iq type='set' id='u1' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><username>alice</username>"
	              "<password>new</password></query></iq>");
	guint32 test = check_login_falls_back(gw);
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(r), ==, "u1");
	stanza_free(r);
	struct fake_command *c = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, test);
	fake_command_free(c);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_KEEP), ==, 0);
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(gw->storage, ALICE, &err);
	g_assert_cmpstr(u->password, ==, "new");
	storage_user_free(u);
	/* told when the new settings apply */
	struct stanza *note = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *said = stanza_get_child_text(note, "body", NULL);
	g_assert_cmpstr(said, ==,
	                "Your registration is saved. Your IRC session as alice goes on; changed "
	                "settings take effect the next time you log in.");
	stanza_free(note);
	gw_expect_nothing(gw); /* no presence change: still "Connected as Alice" */
	/* the session goes on with its own account */
	FAKE_EMIT(gw->fake, im_received, .account = session, .name = "zed", .text = "still?",
	          .when = 0);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(body, ==, "still?");
	stanza_free(m);
}

/* A session that lost its connection holds no nick: whoever got "alice"
 * meanwhile is someone else, so a re-registration that falls back is
 * refused. */
static void test_reregister_while_reconnecting(struct gw *gw, gconstpointer unused)
{
	guint32 session = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, disconnected, .account = session, .reason = WORKER_REASON_NETWORK,
	          .text = "Connection reset", .fatal = false);
	gw_clear(gw);
	gw_inject(gw, "<iq type='set' id='u2' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><username>alice</username>"
	              "<password>new</password></query></iq>");
	(void)check_login_falls_back(gw);
	expect_iq_error(gw, "u2", ALICE_PC, "conflict",
	                "the nick alice is taken on IRC; choose another");
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(gw->storage, ALICE, &err);
	g_assert_cmpstr(u->password, !=, "new");
	storage_user_free(u);
}

/* The same nick on another server is someone else's: the session's own
 * nick on the old server does not count. */
static void test_other_server_nick_taken(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	gw_inject(gw, "<iq type='set' id='u1' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>"
	              "<field var='username'><value>alice</value></field>"
	              "<field var='server'><value>irc.other.net</value></field>"
	              "</x></query></iq>");
	(void)check_login_falls_back(gw);
	expect_iq_error(gw, "u1", ALICE_PC, "conflict",
	                "the nick alice is taken on IRC; choose another");
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(gw->storage, ALICE, &err);
	g_assert_null(g_hash_table_lookup(u->settings, "server")); /* not stored */
	storage_user_free(u);
}

/* A network that cuts a long nick to its limit (rather than refusing it
 * with 432) gives a leading part of it: that nick is too long, not taken. */
static void test_name_shortened(struct gw *gw, gconstpointer unused)
{
	submit(gw, "s1", "bobbytheverylongnick", "pw");
	guint32 account = take_test_login(gw, "bobbytheverylongnick@irc.libera.chat", "pw");
	FAKE_EMIT(gw->fake, name_fallback, .account = account, .wanted = "bobbytheverylongnick",
	          .given = "BobbyTheVery");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "BobbyTheVery");
	expect_iq_error(gw, "s1", BOB_PC, "not-acceptable",
	                "the nick bobbytheverylongnick is longer than IRC allows (it keeps 12 "
	                "characters: BobbyTheVery); choose a shorter one");
	g_assert_false(registered(gw, BOB));
}

/* A later login that falls back tells the user what others see. */
static void test_session_fallback(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = login->account;
	fake_command_free(login);
	gw_clear(gw);
	FAKE_EMIT(gw->fake, name_fallback, .account = account, .wanted = "alice",
	          .given = "alice1");
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_attr(m, "from"), ==, GW_JID);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(body, ==, "alice was taken on IRC; you are alice1");
	stanza_free(m);
	/* cut to the network's limit: said so */
	FAKE_EMIT(gw->fake, name_fallback, .account = account, .wanted = "alice", .given = "ali");
	m = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *cut = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(cut, ==, "alice is longer than IRC allows; you are ali");
	stanza_free(m);
}

/* ---- bounds ------------------------------------------------------------------------------ */

/* Registers BOB once more as NICK: the test login signs on; returns its
 * account. The answer is taken. */
static guint32 register_once(struct gw *gw, const char *id, const char *nick)
{
	submit(gw, id, nick, "pw");
	g_autofree char *user = g_strdup_printf("%s@irc.libera.chat", nick);
	guint32 account = take_test_login(gw, user, "pw");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = nick);
	struct stanza *r = gw_expect(gw, "iq", "result", BOB_PC);
	g_assert_cmpstr(stanza_get_id(r), ==, id);
	stanza_free(r);
	return account;
}

/* One legacy connection per user: a re-registration's kept login replaces
 * the one kept before (logged out at once, not after a minute). */
static void test_kept_login_replaced(struct gw *gw, gconstpointer unused)
{
	guint32 first = register_once(gw, "r1", "bob");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	guint32 second = register_once(gw, "r2", "bobby");
	/* the older one hands over what its worker held for the user (KEEP),
	 * then is logged out */
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_KEEP);
	g_assert_nonnull(c);
	g_assert_cmpuint(c->account, ==, first);
	fake_command_free(c);
	g_assert_true(gw_run_until(has_logout, gw, 3000));
	c = fake_legacy_take_type(gw->fake, WORKER_LOGOUT);
	g_assert_nonnull(c);
	g_assert_cmpuint(c->account, ==, first);
	fake_command_free(c);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	/* the session takes the newer one */
	gw_inject(gw, "<presence from='" BOB_PC "' to='" GW_JID "'/>");
	c = fake_legacy_take_type(gw->fake, WORKER_KEEP);
	g_assert_nonnull(c);
	g_assert_cmpuint(c->account, ==, second);
	fake_command_free(c);
}

/* The kept login stalls while the registration owns it (its own timeout
 * ends it, so nothing is done); once a session adopts it, the pause goes
 * on counting for the session: logged out after the bound, as any. */
static void test_kept_login_stall_adopted(struct gw *gw, gconstpointer unused)
{
	guint32 account = register_once(gw, "r1", "bob");
	legacy_set_stall_limit(gw->legacy, 1);
	legacy_set_congested(gw->legacy, account, true);
	g_assert_true(legacy_paused(gw->legacy, account));
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*reading stopped for 1 s*");
	gw_run_for(2500);
	g_test_assert_expected_messages();
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	gw_inject(gw, "<presence from='" BOB_PC "' to='" GW_JID "'/>");
	struct fake_command *c = gw_take_command(gw, WORKER_KEEP);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*reading stopped for 1 s*");
	g_assert_true(gw_run_until(has_logout, gw, 3000));
	g_test_assert_expected_messages();
	c = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
}

/* Past [limits] registrations_per_minute: resource-constraint, with when
 * to try again; no test login. Another user is not affected. */
static void test_rate_limited(struct gw *gw, gconstpointer unused)
{
	(void)register_once(gw, "r1", "bob");
	(void)register_once(gw, "r2", "bob");
	gw_clear(gw);
	submit(gw, "r3", "bob", "pw");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	expect_iq_error(gw, "r3", BOB_PC, "resource-constraint",
	                "too many registrations: the transport takes 2 a minute from one user "
	                "(each is a login to IRC); try again in 30 s");
	gw_injectf(gw, "<iq type='set' id='a1' from='" ALICE_PC "' to='" GW_JID "'>"
	               "<query xmlns='jabber:iq:register'><username>alice</username>"
	               "<password>pw</password></query></iq>");
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_LOGIN);
	g_assert_nonnull(c);
	fake_command_free(c);
}

/* Many users, each within their own rate: past 60 registrations a minute
 * from all of them together, resource-constraint with when to try again
 * (each starts a check login, which would fill the check lane). */
static void test_rate_limited_all(struct gw *gw, gconstpointer unused)
{
	for (int i = 0; i < 61; i++)
		gw_injectf(gw,
		           "<iq type='set' id='g%d' from='u%d@example.org/pc' to='" GW_JID "'>"
		           "<query xmlns='jabber:iq:register'><username>u%d</username>"
		           "<password>pw</password></query></iq>",
		           i, i, i);
	/* the first 60 wait for their check; the 61st is refused */
	struct stanza *e = gw_expect(gw, "iq", "error", "u60@example.org/pc");
	g_assert_cmpstr(stanza_get_id(e), ==, "g60");
	g_autofree char *got = test_error_text(e, "resource-constraint");
	g_assert_true(g_str_has_prefix(got, "too many registrations: the transport takes 60 a "
	                                    "minute from all users together"));
	g_assert_nonnull(strstr(got, "try again in 1 s"));
	stanza_free(e);
	g_assert_null(gw_take_match(gw, "iq", "error", NULL));
}

/* [limits] registrations_all_per_minute sets that bound (3 here). */
static void test_rate_limited_all_setting(struct gw *gw, gconstpointer unused)
{
	for (int i = 0; i < 4; i++)
		gw_injectf(gw,
		           "<iq type='set' id='g%d' from='u%d@example.org/pc' to='" GW_JID "'>"
		           "<query xmlns='jabber:iq:register'><username>u%d</username>"
		           "<password>pw</password></query></iq>",
		           i, i, i);
	struct stanza *e = gw_expect(gw, "iq", "error", "u3@example.org/pc");
	g_autofree char *got = test_error_text(e, "resource-constraint");
	g_assert_true(g_str_has_prefix(got, "too many registrations: the transport takes 3 a "
	                                    "minute from all users together"));
	stanza_free(e);
	g_assert_null(gw_take_match(gw, "iq", "error", NULL));
}

/* A registration's check login is paced: past the burst it waits for the
 * pacer's turn (answered by the check as usual), ahead of sessions. */
static void test_check_paced(struct gw *gw, gconstpointer unused)
{
	gw_register_user(gw, ALICE, "alice", "pw");
	(void)register_once(gw, "r1", "bob"); /* the one token */
	/* alice's session waits in line, then bob's check does */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	submit(gw, "r2", "bobby", "pw");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	gw_clear(gw);
	g_assert_true(gw_run_until(has_login, gw, 5000));
	/* the check went first */
	guint32 check = take_test_login(gw, "bobby@irc.libera.chat", "pw");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
	FAKE_EMIT(gw->fake, connected, .account = check, .nick = "bobby");
	struct stanza *r = gw_expect(gw, "iq", "result", BOB_PC);
	g_assert_cmpstr(stanza_get_id(r), ==, "r2");
	stanza_free(r);
	g_assert_true(gw_run_until(has_login, gw, 5000)); /* then alice's session */
}

/* A register set whose payload is not <query/> is bad-request. */
static void test_no_query(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<iq type='set' id='q1' from='" BOB_PC "' to='" GW_JID "'>"
	              "<foo xmlns='jabber:iq:register'/></iq>");
	expect_iq_error(gw, "q1", BOB_PC, "bad-request",
	                "a registration is a <query xmlns='jabber:iq:register'/>");
	gw_inject(gw, "<iq type='get' id='q2' from='" BOB_PC "' to='" GW_JID "'>"
	              "<foo xmlns='jabber:iq:register'/></iq>");
	struct stanza *r = gw_expect(gw, "iq", "result", BOB_PC);
	stanza_free(r);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, setup, fn, gw_test_teardown)
	ADD("/registration/form", test_form);
	ADD("/registration/register-and-keep", test_register_and_keep);
	ADD("/registration/kept-login-lost", test_kept_login_lost);
	ADD("/registration/kept-login-expires", test_kept_login_expires);
	ADD("/registration/kept-login-worker-lost", test_kept_login_worker_lost);
	ADD("/registration/failures", test_failures);
	ADD("/registration/worker-lost", test_worker_lost);
	ADD("/registration/no-worker", test_no_worker);
	ADD("/registration/conflict", test_conflict);
	ADD("/registration/bad-submissions", test_bad_submissions);
	ADD("/registration/foreign-domain", test_foreign_domain);
	ADD("/registration/update-while-online", test_update_while_online);
	ADD("/registration/update-while-worker-dies", test_update_while_worker_dies);
	ADD("/registration/unregister", test_unregister);
	ADD("/registration/shutdown-answers-pending", test_shutdown_answers_pending);
	ADD("/registration/iq-gateway", test_iq_gateway);
	ADD("/registration/name-taken", test_name_taken);
	ADD("/registration/name-shortened", test_name_shortened);
	g_test_add("/registration/reregister-own-nick", struct gw, NULL, gw_test_setup,
	           test_reregister_own_nick, gw_test_teardown);
	g_test_add("/registration/reregister-while-reconnecting", struct gw, NULL, gw_test_setup,
	           test_reregister_while_reconnecting, gw_test_teardown);
	g_test_add("/registration/other-server-nick-taken", struct gw, NULL, gw_test_setup,
	           test_other_server_nick_taken, gw_test_teardown);
	g_test_add("/registration/session-fallback", struct gw, NULL, gw_test_setup,
	           test_session_fallback, gw_test_teardown);
	g_test_add("/registration/limits/kept-login-replaced", struct gw, NULL, setup,
	           test_kept_login_replaced, gw_test_teardown);
	g_test_add("/registration/limits/kept-login-stall-adopted", struct gw, NULL, setup,
	           test_kept_login_stall_adopted, gw_test_teardown);
	g_test_add("/registration/limits/rate", struct gw,
	           "[limits]\nregistrations_per_minute = 2\n", setup, test_rate_limited,
	           gw_test_teardown);
	g_test_add("/registration/limits/rate-all", struct gw, NULL, setup, test_rate_limited_all,
	           gw_test_teardown);
	g_test_add("/registration/limits/rate-all-setting", struct gw,
	           "[limits]\nregistrations_all_per_minute = 3\n", setup,
	           test_rate_limited_all_setting, gw_test_teardown);
	g_test_add("/registration/limits/check-paced", struct gw,
	           "[workers]\nlogin_rate = 1\nlogin_burst = 1\n", setup, test_check_paced,
	           gw_test_teardown);
	g_test_add("/registration/no-query", struct gw, NULL, setup, test_no_query,
	           gw_test_teardown);
	return g_test_run();
}
