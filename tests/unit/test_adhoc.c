/* Unit tests for XEP-0050 on the transport (adhoc.c) with the account
 * commands (cmds_account.c): the commands node filtered by who asks, each
 * node's disco#info, the caps, execute on the bare and the full JID, every
 * XEP-0050 error, a session id from another full JID, expiry, execute
 * without an action, unregister's confirm and the settings round trip. */
#include "config.h"

#include <string.h>

#include "../../src/gateway/internal.h"
#include "../../src/gateway/prompts.h"
#include "gateway_fixture.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define NS_CMD "http://jabber.org/protocol/commands"
#define BOB_PC "bob@example.org/pc"
#define ALICE_PHONE "alice@example.org/phone"

/* Sends an execute from FROM to TO of NODE (SESSION NULL: a start),
 * ACTION (NULL: none), with PAYLOAD (XML inside <command/>, NULL none). */
static void exec_cmd(struct gw *gw, const char *from, const char *to, const char *node,
                     const char *session, const char *action, const char *payload)
{
	g_autofree char *sid =
	    session != NULL ? g_strdup_printf(" sessionid='%s'", session) : g_strdup("");
	g_autofree char *act =
	    action != NULL ? g_strdup_printf(" action='%s'", action) : g_strdup("");
	gw_injectf(gw,
	           "<iq type='set' id='x1' from='%s' to='%s'><command xmlns='" NS_CMD
	           "' node='%s'%s%s>%s</command></iq>",
	           from, to, node, sid, act, payload != NULL ? payload : "");
}

/* Takes the result to TO and returns its <command/> (in *IQ, to free). */
static const struct stanza *expect_command(struct gw *gw, const char *to, const char *status,
                                           struct stanza **iq)
{
	*iq = gw_expect(gw, "iq", "result", to);
	const struct stanza *c = stanza_find_child(*iq, "command", NS_CMD);
	g_assert_nonnull(c);
	g_assert_cmpstr(stanza_get_attr(c, "status"), ==, status);
	return c;
}

/* Takes the error to TO: CONDITION and the XEP-0050 SPECIFIC child. */
static void expect_error(struct gw *gw, const char *to, const char *condition, const char *specific)
{
	struct stanza *e = gw_expect(gw, "iq", "error", to);
	g_free(test_error_text(e, condition));
	const struct stanza *err = stanza_find_child(e, "error", NULL);
	if (specific != NULL)
		g_assert_nonnull(stanza_find_child(err, specific, NS_CMD));
	stanza_free(e);
}

/* Starts settings as ALICE_PC at TO; returns the session id. */
static char *start_settings(struct gw *gw, const char *to)
{
	exec_cmd(gw, ALICE_PC, to, "settings", NULL, NULL, NULL);
	struct stanza *iq;
	const struct stanza *c = expect_command(gw, ALICE_PC, "executing", &iq);
	char *sid = g_strdup(stanza_get_attr(c, "sessionid"));
	g_assert_nonnull(sid);
	const struct stanza *actions = stanza_find_child(c, "actions", NULL);
	g_assert_cmpstr(stanza_get_attr(actions, "execute"), ==, "complete");
	g_assert_nonnull(stanza_find_child(actions, "complete", NULL));
	g_assert_nonnull(stanza_find_child(c, "x", NS_DATA));
	stanza_free(iq);
	return sid;
}

#define NOTICES_FORM(v)                                                                            \
	"<x xmlns='jabber:x:data' type='submit'><field var='notices'><value>" v                    \
	"</value></field></x>"

static char *items_of(struct gw *gw, const char *from)
{
	gw_injectf(gw,
	           "<iq type='get' id='d1' from='%s' to='" GW_JID "'><query xmlns='" NS_DISCO_ITEMS
	           "' node='" NS_CMD "'/></iq>",
	           from);
	struct stanza *r = gw_expect(gw, "iq", "result", from);
	const struct stanza *q = stanza_find_child(r, "query", NS_DISCO_ITEMS);
	GString *s = g_string_new(NULL);
	for (const struct stanza *i = stanza_next_child(q, NULL); i != NULL;
	     i = stanza_next_child(q, i))
		g_string_append_printf(s, "%s%s", s->len > 0 ? "," : "",
		                       stanza_get_attr(i, "node"));
	stanza_free(r);
	return g_string_free(s, false);
}

static void test_disco(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	g_autofree char *alice = items_of(gw, ALICE_PC);
	g_assert_cmpstr(alice, ==,
	                "jabber:iq:register,unregister,relogin,settings,status,contacts,prompts");
	g_autofree char *bob = items_of(gw, BOB_PC);
	g_assert_cmpstr(bob, ==, "jabber:iq:register");

	/* disco#info of a node, on the full JID too */
	gw_inject(gw, "<iq type='get' id='d2' from='" ALICE_PC "' to='" GW_FULL
	              "'><query xmlns='" NS_DISCO_INFO "' node='settings'/></iq>");
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	const struct stanza *q = stanza_find_child(r, "query", NS_DISCO_INFO);
	const struct stanza *id = stanza_find_child(q, "identity", NULL);
	g_assert_cmpstr(stanza_get_attr(id, "category"), ==, "automation");
	g_assert_cmpstr(stanza_get_attr(id, "type"), ==, "command-node");
	g_autofree char *xml = stanza_to_string(q);
	g_assert_nonnull(strstr(xml, "var='" NS_CMD "'"));
	g_assert_nonnull(strstr(xml, "var='jabber:x:data'"));
	stanza_free(r);
	/* a node bob may not run does not exist for him */
	gw_inject(gw, "<iq type='get' id='d3' from='" BOB_PC "' to='" GW_JID
	              "'><query xmlns='" NS_DISCO_INFO "' node='settings'/></iq>");
	expect_error(gw, BOB_PC, "item-not-found", NULL);
}

static void test_caps(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct stanza *p = gw_expect(gw, "presence", NULL, ALICE);
	const struct stanza *c = stanza_find_child(p, "c", NS_CAPS);
	g_assert_nonnull(c);
	g_autofree char *ver = g_strdup(stanza_get_attr(c, "ver"));
	stanza_free(p);
	/* the ver is the hash of a disco#info that lists the commands */
	gw_injectf(gw,
	           "<iq type='get' id='d4' from='" ALICE_PC "' to='" GW_FULL
	           "'><query xmlns='" NS_DISCO_INFO "' node='" DISCO_CAPS_NODE "#%s'/></iq>",
	           ver);
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_autofree char *xml = stanza_to_string(r);
	g_assert_nonnull(strstr(xml, "var='" NS_CMD "'"));
	stanza_free(r);
	gw_clear(gw);
}

static void test_settings_round_trip(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	guint32 account = gw_online(gw, "alice");
	g_autofree char *sid = start_settings(gw, GW_FULL);
	/* no action attribute: "execute", the offered complete */
	exec_cmd(gw, ALICE_PC, GW_FULL, "settings", sid, NULL, NOTICES_FORM("0"));
	struct stanza *iq;
	const struct stanza *c = expect_command(gw, ALICE_PC, "completed", &iq);
	g_autofree char *note = stanza_get_child_text(c, "note", NULL);
	g_assert_cmpstr(note, ==, "Changed: notices off.");
	stanza_free(iq);
	/* honoured: a server notice is not told */
	FAKE_EMIT(gw->fake, notice, .account = account, .title = "", .text = "MOTD");
	gw_expect_nothing(gw);
	/* and shown next time */
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", NULL, NULL, NULL);
	c = expect_command(gw, ALICE_PC, "executing", &iq);
	g_autofree char *form = stanza_to_string(c);
	g_assert_nonnull(strstr(form, "<value>false</value>"));
	const char *sid2 = stanza_get_attr(c, "sessionid");
	g_assert_cmpstr(sid2, !=, sid);
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid2, "complete", NOTICES_FORM("1"));
	stanza_free(iq);
	c = expect_command(gw, ALICE_PC, "completed", &iq);
	stanza_free(iq);
	FAKE_EMIT(gw->fake, notice, .account = account, .title = "", .text = "MOTD");
	stanza_free(gw_expect(gw, "message", "chat", ALICE));
}

static void test_errors(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	exec_cmd(gw, ALICE_PC, GW_JID, "nope", NULL, NULL, NULL);
	expect_error(gw, ALICE_PC, "item-not-found", NULL);
	exec_cmd(gw, BOB_PC, GW_JID, "settings", NULL, NULL, NULL);
	expect_error(gw, BOB_PC, "forbidden", NULL);
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", "no-such-id", NULL, NULL);
	expect_error(gw, ALICE_PC, "bad-request", "bad-sessionid");

	g_autofree char *sid = start_settings(gw, GW_JID);
	/* another full JID of the same user: as unknown */
	exec_cmd(gw, ALICE_PHONE, GW_JID, "settings", sid, NULL, NOTICES_FORM("0"));
	expect_error(gw, ALICE_PHONE, "bad-request", "bad-sessionid");
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid, "prev", NULL);
	expect_error(gw, ALICE_PC, "bad-request", "bad-action");
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid, "next", NULL);
	expect_error(gw, ALICE_PC, "bad-request", "bad-action");
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid, NULL, NOTICES_FORM("maybe"));
	expect_error(gw, ALICE_PC, "bad-request", "bad-payload");
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid, NULL,
	         "<x xmlns='jabber:x:data' type='bogus'/>");
	expect_error(gw, ALICE_PC, "bad-request", "bad-payload");
	/* the stage stayed: cancel it */
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid, "cancel", NULL);
	struct stanza *iq;
	expect_command(gw, ALICE_PC, "canceled", &iq);
	stanza_free(iq);
	/* gone: unknown now */
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid, NULL, NULL);
	expect_error(gw, ALICE_PC, "bad-request", "bad-sessionid");

	/* a cancel form cancels too */
	g_autofree char *sid2 = start_settings(gw, GW_JID);
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid2, NULL,
	         "<x xmlns='jabber:x:data' type='cancel'/>");
	expect_command(gw, ALICE_PC, "canceled", &iq);
	stanza_free(iq);
	gw_expect_nothing(gw);
}

static void test_expiry(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	gw->settings->command_idle_seconds = 1;
	g_autofree char *sid = start_settings(gw, GW_JID);
	gw_run_for(1200);
	/* its owner hears it expired; anyone else, that it is unknown */
	exec_cmd(gw, ALICE_PHONE, GW_JID, "settings", sid, NULL, NULL);
	expect_error(gw, ALICE_PHONE, "bad-request", "bad-sessionid");
	exec_cmd(gw, ALICE_PC, GW_JID, "settings", sid, NULL, NULL);
	expect_error(gw, ALICE_PC, "not-allowed", "session-expired");
}

static bool registered(struct gw *gw, const char *bare)
{
	GHashTable *settings = storage_user_settings(gw->storage, bare, NULL);
	if (settings != NULL)
		g_hash_table_unref(settings);
	return settings != NULL;
}

static char *start_unregister(struct gw *gw)
{
	exec_cmd(gw, ALICE_PC, GW_JID, "unregister", NULL, "execute", NULL);
	struct stanza *iq;
	const struct stanza *c = expect_command(gw, ALICE_PC, "executing", &iq);
	char *sid = g_strdup(stanza_get_attr(c, "sessionid"));
	stanza_free(iq);
	return sid;
}

static void test_unregister(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	g_autofree char *sid = start_unregister(gw);
	/* confirm is required */
	exec_cmd(gw, ALICE_PC, GW_JID, "unregister", sid, NULL, NULL);
	expect_error(gw, ALICE_PC, "bad-request", "bad-payload");
	exec_cmd(gw, ALICE_PC, GW_JID, "unregister", sid, NULL,
	         "<x xmlns='jabber:x:data' type='submit'><field var='confirm'><value>false</value>"
	         "</field></x>");
	struct stanza *iq;
	const struct stanza *c = expect_command(gw, ALICE_PC, "completed", &iq);
	g_autofree char *note = stanza_get_child_text(c, "note", NULL);
	g_assert_cmpstr(note, ==, "Nothing was changed.");
	stanza_free(iq);
	g_assert_true(registered(gw, ALICE));

	g_autofree char *sid2 = start_unregister(gw);
	exec_cmd(gw, ALICE_PC, GW_JID, "unregister", sid2, "complete",
	         "<x xmlns='jabber:x:data' type='submit'><field var='confirm'><value>1</value>"
	         "</field></x>");
	c = expect_command(gw, ALICE_PC, "completed", &iq);
	g_autofree char *done = stanza_get_child_text(c, "note", NULL);
	g_assert_nonnull(g_strstr_len(done, -1, "Unregistered"));
	stanza_free(iq);
	g_assert_false(registered(gw, ALICE));
	stanza_free(gw_expect(gw, "presence", "unsubscribe", ALICE));
	/* and the user commands are gone for her */
	g_autofree char *items = items_of(gw, ALICE_PC);
	g_assert_cmpstr(items, ==, "jabber:iq:register");
}

static void test_relogin(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	/* not online: refused */
	exec_cmd(gw, ALICE_PC, GW_JID, "relogin", NULL, NULL, NULL);
	expect_error(gw, ALICE_PC, "not-allowed", NULL);
	gw_online(gw, "alice");
	exec_cmd(gw, ALICE_PC, GW_JID, "relogin", NULL, NULL, NULL);
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = login->account;
	fake_command_free(login);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice2");
	gw_run_for(400);
	struct stanza *iq;
	const struct stanza *c = expect_command(gw, ALICE_PC, "completed", &iq);
	g_autofree char *note = stanza_get_child_text(c, "note", NULL);
	g_assert_cmpstr(note, ==, "Signed on to IRC as alice2.");
	stanza_free(iq);
	gw_clear(gw);
}

#define REG_FORM(nick, pw)                                                                         \
	"<x xmlns='jabber:x:data' type='submit'>"                                                  \
	"<field var='username'><value>" nick "</value></field>"                                    \
	"<field var='password'><value>" pw "</value></field></x>"

/* Starts jabber:iq:register as FROM; returns the session id. */
static char *start_register(struct gw *gw, const char *from)
{
	exec_cmd(gw, from, GW_JID, "jabber:iq:register", NULL, NULL, NULL);
	struct stanza *iq;
	const struct stanza *c = expect_command(gw, from, "executing", &iq);
	char *sid = g_strdup(stanza_get_attr(c, "sessionid"));
	g_assert_nonnull(stanza_find_child(c, "x", NS_DATA));
	stanza_free(iq);
	return sid;
}

static guint32 take_test_login(struct gw *gw, const char *password)
{
	struct fake_command *c = fake_legacy_take_type(gw->fake, WORKER_LOGIN);
	g_assert_nonnull(c);
	struct worker_msg_login m;
	g_assert_true(worker_msg_login_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.flags, ==, WORKER_LOGIN_TEST);
	g_assert_cmpstr(m.password, ==, password);
	worker_msg_login_clear(&m);
	guint32 account = c->account;
	fake_command_free(c);
	return account;
}

static void test_register(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	g_autofree char *sid = start_register(gw, BOB_PC);
	/* a value that does not fit its field: the stage stays */
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, NULL,
	         "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>bob</value>"
	         "</field><field var='port'><value>many</value></field></x>");
	expect_error(gw, BOB_PC, "bad-request", "bad-payload");
	/* no action attribute: next; the check login answers later */
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, NULL, REG_FORM("bob", "secret"));
	guint32 account = take_test_login(gw, "secret");
	gw_expect_nothing(gw);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	struct stanza *iq;
	const struct stanza *c = expect_command(gw, BOB_PC, "completed", &iq);
	g_autofree char *note = stanza_get_child_text(c, "note", NULL);
	g_assert_cmpstr(note, ==, "Registered: signed on to IRC as bob.");
	stanza_free(iq);
	g_assert_true(registered(gw, "bob@example.org"));
	gw_clear(gw);

	/* a registered user: prefilled, the password optional (kept) */
	g_autofree char *sid2 = start_register(gw, ALICE_PC);
	exec_cmd(gw, ALICE_PC, GW_JID, "jabber:iq:register", sid2, "next", REG_FORM("alice", ""));
	account = take_test_login(gw, "pw");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_AUTH,
	          .text = "wrong password");
	expect_error(gw, ALICE_PC, "not-authorized", NULL);
}

/* A field table from KEY, VALUE, ... NULL (a PROMPT's form row). */
static GHashTable *field(const char *key, ...)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	va_list ap;
	va_start(ap, key);
	for (const char *k = key; k != NULL; k = va_arg(ap, const char *))
		g_hash_table_replace(t, g_strdup(k), g_strdup(va_arg(ap, const char *)));
	va_end(ap);
	return t;
}

/* The check login asks a login code: PROMPT WORKER_ID on ACCOUNT. */
static void emit_code_prompt(struct gw *gw, guint32 account, guint32 worker_id)
{
	GPtrArray *form = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	g_ptr_array_add(form, field("var", "value", "type", "text-single", "label", "Code",
	                            "required", "1", NULL));
	FAKE_EMIT(gw->fake, prompt, .account = account, .prompt = worker_id,
	          .kind = WORKER_PROMPT_KIND_INPUT, .title = "Login code", .instructions = "",
	          .who = "", .form = form);
	g_ptr_array_unref(form);
}

#define CODE_FORM(v)                                                                               \
	"<x xmlns='jabber:x:data' type='submit'><field var='value'><value>" v "</value></field></" \
	"x>"

/* The check login's prompt is the run's next stage; its answer goes to
 * the worker once; then the check signs on: completed. */
static void test_register_prompt(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	g_autofree char *sid = start_register(gw, BOB_PC);
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, NULL, REG_FORM("bob", "secret"));
	guint32 account = take_test_login(gw, "secret");
	emit_code_prompt(gw, account, 4);
	struct stanza *iq;
	const struct stanza *c = expect_command(gw, BOB_PC, "executing", &iq);
	g_autofree char *xml = stanza_to_string(c);
	g_assert_nonnull(strstr(xml, "var='value'"));
	g_assert_nonnull(strstr(xml, "Login code"));
	stanza_free(iq);
	gw_expect_nothing(gw); /* not by chat as well */
	/* the code is required */
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, NULL, NULL);
	expect_error(gw, BOB_PC, "bad-request", "bad-payload");
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, NULL, CODE_FORM("1234"));
	struct fake_command *a = gw_take_command(gw, WORKER_ANSWER_PROMPT);
	struct worker_msg_answer_prompt m;
	g_assert_true(worker_msg_answer_prompt_read(a->payload, a->account, &m));
	g_assert_cmpuint(m.prompt, ==, 4);
	g_assert_cmpstr(g_hash_table_lookup(m.values, "value"), ==, "1234");
	worker_msg_answer_prompt_clear(&m);
	fake_command_free(a);
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 4,
	          .why = WORKER_PROMPT_CLOSED_ANSWERED, .text = "");
	/* more than the 45 s check timeout is allowed while a prompt waits */
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	c = expect_command(gw, BOB_PC, "completed", &iq);
	g_autofree char *note = stanza_get_child_text(c, "note", NULL);
	g_assert_cmpstr(note, ==, "Registered: signed on to IRC as bob.");
	stanza_free(iq);
	g_assert_true(registered(gw, "bob@example.org"));
	gw_clear(gw);
}

/* The check login withdraws its prompt: the run ends with the text, told
 * at the next execute; cancelling a run cancels its prompt and the check. */
static void test_register_prompt_withdrawn(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	g_autofree char *sid = start_register(gw, BOB_PC);
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, NULL, REG_FORM("bob", "secret"));
	guint32 account = take_test_login(gw, "secret");
	emit_code_prompt(gw, account, 5);
	struct stanza *iq;
	expect_command(gw, BOB_PC, "executing", &iq);
	stanza_free(iq);
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 5,
	          .why = WORKER_PROMPT_CLOSED_WITHDRAWN, .text = "the code expired");
	struct fake_command *out = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(out->account, ==, account);
	fake_command_free(out);
	gw_clear(gw);
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, NULL, CODE_FORM("1"));
	struct stanza *e = gw_expect(gw, "iq", "error", BOB_PC);
	g_autofree char *text = test_error_text(e, "not-acceptable");
	g_assert_nonnull(strstr(text, "the code expired"));
	stanza_free(e);
	g_assert_false(registered(gw, "bob@example.org"));

	/* cancel while the prompt is shown */
	g_autofree char *sid2 = start_register(gw, BOB_PC);
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid2, NULL, REG_FORM("bob", "secret"));
	account = take_test_login(gw, "secret");
	emit_code_prompt(gw, account, 6);
	expect_command(gw, BOB_PC, "executing", &iq);
	stanza_free(iq);
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid2, "cancel", NULL);
	expect_command(gw, BOB_PC, "canceled", &iq);
	stanza_free(iq);
	struct fake_command *ans = gw_take_command(gw, WORKER_ANSWER_PROMPT);
	fake_command_free(ans);
	out = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(out->account, ==, account);
	fake_command_free(out);
	gw_clear(gw);
}

/* A cancel while the check login runs (its iq held): both iqs hear
 * canceled, the check login ends, nothing is stored. */
static void test_register_cancel_checking(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	g_autofree char *sid = start_register(gw, BOB_PC);
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, NULL, REG_FORM("bob", "secret"));
	guint32 account = take_test_login(gw, "secret");
	gw_expect_nothing(gw);
	exec_cmd(gw, BOB_PC, GW_JID, "jabber:iq:register", sid, "cancel", NULL);
	struct stanza *iq;
	expect_command(gw, BOB_PC, "canceled", &iq);
	stanza_free(iq);
	expect_command(gw, BOB_PC, "canceled", &iq);
	stanza_free(iq);
	struct fake_command *out = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(out->account, ==, account);
	fake_command_free(out);
	/* a late sign-on of the check changes nothing */
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	g_assert_false(registered(gw, "bob@example.org"));
	gw_clear(gw);
}

/* XEP-0077: a prompt of the check login is open for the user (the chat
 * bot's to ask), the iq waits; once answered and signed on, the iq gets
 * its result. */
static void test_iq_register_prompt(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	gw_inject(gw,
	          "<iq type='set' id='r1' from='" BOB_PC "' to='" GW_JID "'>"
	          "<query xmlns='jabber:iq:register'>" REG_FORM("bob", "secret") "</query></iq>");
	guint32 account = take_test_login(gw, "secret");
	emit_code_prompt(gw, account, 7);
	const struct gateway_ctx *ctx = gateway_context(gw->gateway);
	g_autoptr(GPtrArray) open = prompts_of(ctx->prompts, "bob@example.org");
	g_assert_cmpuint(open->len, ==, 1);
	struct stanza *early = gw_take_match(gw, "iq", "*", BOB_PC);
	g_assert_null(early);
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "value", NULL),
	                         "42");
	g_assert_true(prompt_answer(g_ptr_array_index(open, 0), sub));
	dataform_free(sub);
	fake_command_free(gw_take_command(gw, WORKER_ANSWER_PROMPT));
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 7,
	          .why = WORKER_PROMPT_CLOSED_ANSWERED, .text = "");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	struct stanza *r = gw_expect(gw, "iq", "result", BOB_PC);
	g_assert_cmpstr(stanza_get_id(r), ==, "r1");
	stanza_free(r);
	g_assert_true(registered(gw, "bob@example.org"));
	gw_clear(gw);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
	ADD("/adhoc/disco", test_disco);
	ADD("/adhoc/caps", test_caps);
	ADD("/adhoc/settings-round-trip", test_settings_round_trip);
	ADD("/adhoc/errors", test_errors);
	ADD("/adhoc/expiry", test_expiry);
	ADD("/adhoc/unregister", test_unregister);
	ADD("/adhoc/relogin", test_relogin);
	ADD("/adhoc/register", test_register);
	ADD("/adhoc/register-prompt", test_register_prompt);
	ADD("/adhoc/iq-register-prompt", test_iq_register_prompt);
	ADD("/adhoc/register-cancel-checking", test_register_cancel_checking);
	ADD("/adhoc/register-prompt-withdrawn", test_register_prompt_withdrawn);
	return g_test_run();
}
