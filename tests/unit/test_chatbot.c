/* Unit tests for the chat bot on the transport JID (chatbot.c,
 * chatbot_render.c) on the gateway fixture: hygiene (what is never
 * answered), help by role, unknown words, a stage asked one field per
 * message (numbered choices by number and label, `-` for the default,
 * yes/no, a refused submission asked again), abort, expiry, the masked
 * field's warning, receipts, and prompts asked by chat: answered exactly
 * once, answered elsewhere, waiting behind a running command. */
#include "config.h"

#include <string.h>

#include "../../src/gateway/cmd.h"
#include "../../src/gateway/internal.h"
#include "../../src/gateway/prompts.h"
#include "gateway_fixture.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define BOB_PC "bob@example.org/pc"
#define ADMIN "root@example.org"
#define ADMIN_PC "root@example.org/pc"

/* Sends BODY as chat from FROM to the transport. */
static void chat(struct gw *gw, const char *from, const char *body)
{
	g_autofree char *esc = g_markup_escape_text(body, -1);
	gw_injectf(
	    gw, "<message from='%s' to='" GW_JID "' type='chat' id='c'><body>%s</body></message>",
	    from, esc);
}

/* Takes the bot's next chat to TO and asserts its body has PART; returns
 * the body (caller frees). */
static char *expect_said(struct gw *gw, const char *to, const char *part)
{
	struct stanza *m = gw_take_match(gw, "message", "chat", to);
	if (m == NULL)
		g_error("no chat to %s (wanted '%s')", to, part);
	g_assert_cmpstr(stanza_get_from(m), ==, GW_JID);
	char *body = stanza_get_child_text(m, "body", NULL);
	stanza_free(m);
	if (body == NULL || strstr(body, part) == NULL)
		g_error("chat to %s lacks '%s':\n%s", to, part, body != NULL ? body : "(none)");
	return body;
}

static void said(struct gw *gw, const char *to, const char *part)
{
	g_free(expect_said(gw, to, part));
}

static struct prompts *prompts_of_gw(struct gw *gw)
{
	return gateway_context(gw->gateway)->prompts;
}

/* ---- hygiene ---------------------------------------------------------------------- */

static void test_hygiene(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	const char *quiet[] = {
	    "<message from='" ALICE_PC "' to='" GW_JID "' type='error'><body>help</body></message>",
	    "<message from='" ALICE_PC "' to='" GW_JID
	    "' type='headline'><body>help</body></message>",
	    "<message from='" ALICE_PC "' to='" GW_JID
	    "' type='groupchat'><body>help</body></message>",
	    "<message from='" ALICE_PC "' to='" GW_JID "' type='chat'><active xmlns='" NS_CHATSTATES
	    "'/></message>",
	    "<message from='" ALICE_PC "' to='" GW_JID "' type='chat'><body> \n </body></message>",
	    "<message from='" GW_DOMAIN "' to='" GW_JID "' type='chat'><body>help</body></message>",
	    "<message from='conference." GW_DOMAIN "' to='" GW_JID "'><body>help</body></message>",
	    /* another bot: a form and a command list */
	    "<message from='bot@example.org/x' to='" GW_JID "' type='chat'><body>help</body>"
	    "<x xmlns='jabber:x:data' type='form'/></message>",
	    "<message from='bot@example.org/x' to='" GW_JID "' type='chat'><body>help</body>"
	    "<query xmlns='" NS_DISCO_ITEMS "' node='" NS_COMMANDS "'/></message>",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(quiet); i++)
		gw_inject(gw, quiet[i]);
	gw_expect_nothing(gw);
	/* the same help as chat is answered */
	chat(gw, ALICE_PC, "help");
	said(gw, ALICE_PC, "Commands");
	gw_expect_nothing(gw);
}

static void test_receipt(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	gw_inject(gw, "<message from='" ALICE_PC "' to='" GW_JID "' type='chat' id='r1'>"
	              "<body>help</body><request xmlns='urn:xmpp:receipts'/></message>");
	struct stanza *r = gw_take_match(gw, "message", NULL, ALICE_PC);
	g_assert_nonnull(r);
	const struct stanza *got = stanza_find_child(r, "received", "urn:xmpp:receipts");
	g_assert_nonnull(got);
	g_assert_cmpstr(stanza_get_attr(got, "id"), ==, "r1");
	stanza_free(r);
	said(gw, ALICE_PC, "Commands");
}

/* Answers to one user are rate-limited: a burst of 20, then dropped. */
static void test_rate(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	guint answers = 0;
	for (guint i = 0; i < 30; i++) {
		chat(gw, ALICE_PC, "help");
		struct stanza *m;
		while ((m = gw_take_match(gw, "message", "chat", ALICE_PC)) != NULL) {
			answers++;
			stanza_free(m);
		}
	}
	g_assert_cmpuint(answers, ==, 20);
	/* another user is answered meanwhile */
	chat(gw, BOB_PC, "help");
	said(gw, BOB_PC, "Commands");
	gw_expect_nothing(gw);
}

/* ---- words ---------------------------------------------------------------------- */

static void test_help_by_role(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	chat(gw, ALICE_PC, "HELP");
	g_autofree char *user = expect_said(gw, ALICE_PC, "status — ");
	g_assert_nonnull(strstr(user, "unregister — "));
	g_assert_null(strstr(user, "stats"));
	g_assert_null(strstr(user, "delete-user"));
	chat(gw, BOB_PC, "!help");
	g_autofree char *stranger = expect_said(gw, BOB_PC, "register — ");
	g_assert_null(strstr(stranger, "status — "));
	g_assert_nonnull(strstr(stranger, "not registered"));
	chat(gw, ADMIN_PC, "/help");
	g_autofree char *admin = expect_said(gw, ADMIN_PC, "stats — ");
	g_assert_nonnull(strstr(admin, "delete-user — "));
	/* help <word> */
	chat(gw, ALICE_PC, "help Relogin");
	said(gw, ALICE_PC, "relogin — ");
	chat(gw, ALICE_PC, "help stats");
	said(gw, ALICE_PC, "no command 'stats' for you");
	/* an admin word from a user is refused, not run */
	chat(gw, ALICE_PC, "stats");
	said(gw, ALICE_PC, "may not run 'stats'");
	chat(gw, ADMIN_PC, "stats");
	g_autofree char *stats = expect_said(gw, ADMIN_PC, "Users registered: 1");
	/* the result's table as plain lines */
	g_assert_nonnull(strstr(stats, "\nWorker pid | Accounts | Memory (RSS, KiB)"));
	/* a failure is told with its text */
	chat(gw, ALICE_PC, "relogin");
	said(gw, ALICE_PC, "Failed: you are not online with the transport");
	gw_expect_nothing(gw);
}

static void test_unknown(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	chat(gw, ALICE_PC, "frobnicate now");
	said(gw, ALICE_PC, "'frobnicate' is no command here: send help");
	/* again at once: not answered (chatter) */
	chat(gw, ALICE_PC, "frobnicate");
	gw_expect_nothing(gw);
	/* a command is still answered */
	chat(gw, ALICE_PC, "abort");
	said(gw, ALICE_PC, "No command is running");
}

/* ---- a command's stage by chat ----------------------------------------------------- */

static void test_settings_by_chat(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	chat(gw, ALICE_PC, "settings");
	g_autofree char *q = expect_said(gw, ALICE_PC, "Settings");
	g_assert_nonnull(strstr(q, "Answer yes or no."));
	g_assert_nonnull(strstr(q, "Default: yes"));
	chat(gw, ALICE_PC, "nope");
	said(gw, ALICE_PC, "Changed: notices off.");
	g_assert_false(cmds_account_pref(gateway_context(gw->gateway), ALICE, "notices"));
	/* `-` keeps the default (now no); y... is yes */
	chat(gw, ALICE_PC, "settings");
	said(gw, ALICE_PC, "Default: no");
	chat(gw, ALICE_PC, "-");
	said(gw, ALICE_PC, "Nothing was changed.");
	g_assert_false(cmds_account_pref(gateway_context(gw->gateway), ALICE, "notices"));
	chat(gw, ALICE_PC, "settings");
	said(gw, ALICE_PC, "Default: no");
	chat(gw, ALICE_PC, "Yes please");
	said(gw, ALICE_PC, "Changed: notices on.");
	g_assert_true(cmds_account_pref(gateway_context(gw->gateway), ALICE, "notices"));
	gw_expect_nothing(gw);
}

static void test_unregister_confirm(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	chat(gw, ALICE_PC, "unregister");
	said(gw, ALICE_PC, "Really unregister?");
	chat(gw, ALICE_PC, "whatever");
	said(gw, ALICE_PC, "Nothing was changed.");
	g_assert_true(cmds_is_registered(gateway_context(gw->gateway)->cmds, ALICE));
	chat(gw, ALICE_PC, "unregister");
	said(gw, ALICE_PC, "Really unregister?");
	chat(gw, ALICE_PC, "y");
	said(gw, ALICE_PC, "Unregistered");
	g_assert_false(cmds_is_registered(gateway_context(gw->gateway)->cmds, ALICE));
}

static void test_abort(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	chat(gw, ALICE_PC, "settings");
	said(gw, ALICE_PC, "Settings");
	chat(gw, ALICE_PC, "/ABORT");
	said(gw, ALICE_PC, "Cancelled.");
	/* nothing runs now: a yes is no answer any more */
	chat(gw, ALICE_PC, "cancel");
	said(gw, ALICE_PC, "No command is running");
	g_assert_true(cmds_account_pref(gateway_context(gw->gateway), ALICE, "notices"));
}

static void test_expired(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	gw->settings->command_idle_seconds = 1;
	chat(gw, ALICE_PC, "settings");
	said(gw, ALICE_PC, "Settings");
	gw_run_for(1300);
	said(gw, ALICE_PC, "the command 'settings' expired");
	/* the next message is a command again */
	chat(gw, ALICE_PC, "yes");
	said(gw, ALICE_PC, "'yes' is no command");
}

/* ---- prompts asked by chat ------------------------------------------------------------- */

static struct dataform *two_fields(void)
{
	struct dataform *f = dataform_new(DATAFORM_FORM);
	dataform_field_set_required(dataform_add_field(f, DATAFORM_TEXT_SINGLE, "a", "First"),
	                            true);
	dataform_field_set_required(dataform_add_field(f, DATAFORM_TEXT_SINGLE, "b", "Second"),
	                            true);
	return f;
}

struct own;
static void own_answer(void *data, const struct dataform *values);

struct own {
	int answers;
	struct dataform *values;
};

static void own_answer(void *data, const struct dataform *values)
{
	struct own *o = data;
	o->answers++;
	dataform_free(o->values);
	o->values = NULL;
	if (values != NULL) {
		struct stanza *holder = stanza_new("m");
		o->values = dataform_parse(dataform_add_to(values, holder), NULL);
		stanza_free(holder);
	}
}

/* A form: colour (list-single), sizes (list-multi), mood (text-single,
 * default "calm"), note (optional), code (integer 1..99), a hidden
 * value. */
static struct dataform *rich_form(void)
{
	struct dataform *f = dataform_new(DATAFORM_FORM);
	struct dataform_field *c = dataform_add_field(f, DATAFORM_LIST_SINGLE, "colour", "Colour");
	dataform_field_set_required(c, true);
	dataform_field_add_option(c, "Red", "r");
	dataform_field_add_option(c, "Green", "g");
	dataform_field_add_option(c, "Blue", "b");
	struct dataform_field *s = dataform_add_field(f, DATAFORM_LIST_MULTI, "sizes", "Sizes");
	dataform_field_add_option(s, "Small", "s");
	dataform_field_add_option(s, "Medium", "m");
	dataform_field_add_option(s, "Large", "l");
	struct dataform_field *m = dataform_add_field(f, DATAFORM_TEXT_SINGLE, "mood", "Mood");
	dataform_field_add_value(m, "calm");
	dataform_add_field(f, DATAFORM_TEXT_SINGLE, "note", "Note");
	struct dataform_field *n = dataform_add_field(f, DATAFORM_TEXT_SINGLE, "code", "Code");
	dataform_field_set_integer(n, 1, 99);
	dataform_field_set_required(n, true);
	dataform_field_add_value(dataform_add_field(f, DATAFORM_HIDDEN, "keep", NULL), "state");
	return f;
}

static struct stanza *take_chat(struct gw *gw, const char *to)
{
	struct stanza *m = gw_take_match(gw, "message", "chat", to);
	g_assert_nonnull(m);
	return m;
}

/* Each answer by chat starts the idle expiry again (cmd_run_touch). */
static void test_answer_touches(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	gw->settings->command_idle_seconds = 1;
	struct own o = {0};
	(void)prompts_ask(prompts_of_gw(gw), ALICE, "Two", NULL, two_fields(), own_answer, &o,
	                  NULL);
	said(gw, ALICE, "(1/2) First");
	gw_run_for(700);
	chat(gw, ALICE_PC, "one");
	said(gw, ALICE_PC, "(2/2) Second");
	gw_run_for(700); /* 1.4 s after the start, 0.7 s after the last answer */
	gw_expect_nothing(gw);
	chat(gw, ALICE_PC, "two");
	said(gw, ALICE_PC, "was taken");
	g_assert_cmpint(o.answers, ==, 1);
	g_assert_cmpstr(dataform_get_value(o.values, "b"), ==, "two");
	dataform_free(o.values);
}

static void test_prompt_fields(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	struct own o = {0};
	struct prompt *p = prompts_ask(prompts_of_gw(gw), ALICE, "Pick things", "Choose well.",
	                               rich_form(), own_answer, &o, NULL);
	/* the first message: the stage, the form and the announcement */
	struct stanza *m = take_chat(gw, ALICE);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_nonnull(strstr(body, "Pick things\nChoose well."));
	g_assert_nonnull(strstr(body, "(1/5) Colour\n1) Red\n2) Green\n3) Blue"));
	g_assert_nonnull(stanza_find_child(m, "x", NS_DATA));
	const struct stanza *q = stanza_find_child(m, "query", NS_DISCO_ITEMS);
	g_assert_nonnull(q);
	g_assert_cmpstr(stanza_get_attr(q, "node"), ==, NS_COMMANDS);
	g_autofree char *node = g_strdup_printf("prompt/%u", prompt_id(p));
	const struct stanza *item = stanza_find_child(q, "item", NULL);
	g_assert_cmpstr(stanza_get_attr(item, "node"), ==, node);
	g_assert_cmpstr(stanza_get_attr(item, "jid"), ==, GW_JID);
	stanza_free(m);
	/* a choice that is none: asked again */
	chat(gw, ALICE_PC, "7");
	said(gw, ALICE_PC, "not one of the choices");
	chat(gw, ALICE_PC, "2");
	said(gw, ALICE_PC, "(2/5) Sizes");
	chat(gw, ALICE_PC, "large, 1");
	g_autofree char *mood = expect_said(gw, ALICE_PC, "(3/5) Mood");
	g_assert_nonnull(strstr(mood, "Default: calm"));
	chat(gw, ALICE_PC, "-");
	said(gw, ALICE_PC, "(4/5) Note (optional)");
	chat(gw, ALICE_PC, "-");
	said(gw, ALICE_PC, "(5/5) Code");
	chat(gw, ALICE_PC, "-");
	said(gw, ALICE_PC, "Code is needed");
	/* not an integer: the submission is refused and the stage asked again */
	chat(gw, ALICE_PC, "lots");
	g_autofree char *again = expect_said(gw, ALICE_PC, "Not accepted: ");
	g_assert_nonnull(strstr(again, "(1/5) Colour"));
	g_assert_cmpint(o.answers, ==, 0);
	chat(gw, ALICE_PC, "blue");
	said(gw, ALICE_PC, "Sizes");
	chat(gw, ALICE_PC, "Medium\nsmall");
	said(gw, ALICE_PC, "Mood");
	chat(gw, ALICE_PC, "happy");
	said(gw, ALICE_PC, "Note");
	chat(gw, ALICE_PC, "-");
	said(gw, ALICE_PC, "Code");
	chat(gw, ALICE_PC, "42");
	said(gw, ALICE_PC, "your answer to 'Pick things' was taken");
	g_assert_cmpint(o.answers, ==, 1);
	g_assert_cmpstr(dataform_get_value(o.values, "colour"), ==, "b");
	const GPtrArray *sizes = dataform_field_values(dataform_find_field(o.values, "sizes"));
	g_assert_cmpuint(sizes->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(sizes, 0), ==, "m");
	g_assert_cmpstr(g_ptr_array_index(sizes, 1), ==, "s");
	g_assert_cmpstr(dataform_get_value(o.values, "mood"), ==, "happy");
	g_assert_null(dataform_get_value(o.values, "note"));
	g_assert_cmpstr(dataform_get_value(o.values, "code"), ==, "42");
	g_assert_cmpstr(dataform_get_value(o.values, "keep"), ==, "state");
	/* exactly once: the next chat is no answer */
	chat(gw, ALICE_PC, "43");
	said(gw, ALICE_PC, "'43' is no command");
	g_assert_cmpint(o.answers, ==, 1);
	dataform_free(o.values);
}

static struct dataform *secret_form(void)
{
	struct dataform *f = dataform_new(DATAFORM_FORM);
	dataform_field_set_required(
	    dataform_add_field(f, DATAFORM_TEXT_PRIVATE, "password", "New password"), true);
	return f;
}

static void test_masked_warning(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	struct own o = {0};
	struct prompt *p = prompts_ask(prompts_of_gw(gw), ALICE, "Password", "It changed.",
	                               secret_form(), own_answer, &o, NULL);
	g_autofree char *node = g_strdup_printf("prompt/%u", prompt_id(p));
	g_autofree char *q = expect_said(gw, ALICE, "stays in your message archive");
	g_assert_nonnull(strstr(q, "carbons"));
	g_assert_nonnull(strstr(q, node));
	/* the secret as typed */
	chat(gw, ALICE_PC, " s3 cret");
	said(gw, ALICE_PC, "was taken");
	g_assert_cmpstr(dataform_get_value(o.values, "password"), ==, " s3 cret");
	dataform_free(o.values);
	/* registering by chat warns the same way, naming the command */
	chat(gw, BOB_PC, "register");
	said(gw, BOB_PC, "(1/");
	for (guint i = 0; i < 8; i++) {
		chat(gw, BOB_PC, "bob");
		struct stanza *m = gw_take_match(gw, "message", "chat", BOB_PC);
		g_assert_nonnull(m);
		g_autofree char *body = stanza_get_child_text(m, "body", NULL);
		stanza_free(m);
		if (strstr(body, "message archive") != NULL) {
			g_assert_nonnull(strstr(body, "'" NS_REGISTER "'"));
			chat(gw, BOB_PC, "abort");
			said(gw, BOB_PC, "Cancelled.");
			return;
		}
	}
	g_error("registering by chat never asked a password");
}

static void test_prompt_elsewhere(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	struct own o = {0};
	struct prompt *p = prompts_ask(prompts_of_gw(gw), ALICE, "Secret code", NULL, secret_form(),
	                               own_answer, &o, NULL);
	said(gw, ALICE, "Secret code");
	/* answered by another route (the prompts command, a form) */
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_PRIVATE, "password", NULL),
	                         "x");
	g_assert_true(prompt_answer(p, sub));
	dataform_free(sub);
	said(gw, ALICE, "was answered elsewhere");
	g_assert_cmpint(o.answers, ==, 1);
	/* the chat run ended: this is no answer */
	chat(gw, ALICE_PC, "y");
	said(gw, ALICE_PC, "'y' is no command");
	g_assert_cmpint(o.answers, ==, 1);
	dataform_free(o.values);
}

static bool has_chat(void *data)
{
	return gw_sent_count(data) > 0;
}

static void test_prompt_waits(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	chat(gw, ALICE_PC, "settings");
	said(gw, ALICE_PC, "Settings");
	struct own o = {0};
	(void)prompts_ask(prompts_of_gw(gw), ALICE, "Later question", NULL, secret_form(),
	                  own_answer, &o, NULL);
	said(gw, ALICE_PC, "Another question is waiting for you (Later question)");
	/* the settings' answer is still its own */
	chat(gw, ALICE_PC, "no");
	said(gw, ALICE_PC, "Changed: notices off.");
	g_assert_cmpint(o.answers, ==, 0);
	/* then the question */
	g_assert_true(gw_run_until(has_chat, gw, 2000));
	said(gw, ALICE, "Later question");
	chat(gw, ALICE_PC, "abort");
	said(gw, ALICE_PC, "The question 'Later question' was cancelled");
	g_assert_cmpint(o.answers, ==, 1);
	g_assert_null(o.values);
}

/* A libpurple prompt from the worker: an input "Login code" (WORKER_ID)
 * on ACCOUNT, nobody claiming it. */
static struct prompt *emit_code(struct gw *gw, guint32 account, guint32 worker_id)
{
	GHashTable *f = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_replace(f, g_strdup("var"), g_strdup("value"));
	g_hash_table_replace(f, g_strdup("type"), g_strdup("text-single"));
	g_hash_table_replace(f, g_strdup("label"), g_strdup("Code"));
	g_hash_table_replace(f, g_strdup("required"), g_strdup("1"));
	GPtrArray *form = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	g_ptr_array_add(form, f);
	FAKE_EMIT(gw->fake, prompt, .account = account, .prompt = worker_id,
	          .kind = WORKER_PROMPT_KIND_INPUT, .title = "Login code", .instructions = "",
	          .who = "", .form = form);
	g_ptr_array_unref(form);
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	return open->len > 0 ? g_ptr_array_index(open, open->len - 1) : NULL;
}

/* A worker's prompt answered by chat: one ANSWER_PROMPT with the value;
 * the worker's refusal asks again; its close is told. */
static void test_worker_prompt(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	guint32 account = gw_online(gw, "alice");
	struct prompt *p = emit_code(gw, account, 7);
	g_assert_nonnull(p);
	said(gw, ALICE, "Login code");
	chat(gw, ALICE_PC, "123");
	struct fake_command *c = gw_take_command(gw, WORKER_ANSWER_PROMPT);
	struct worker_msg_answer_prompt m;
	g_assert_true(worker_msg_answer_prompt_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.prompt, ==, 7);
	g_assert_cmpuint(m.action, ==, WORKER_PROMPT_OK);
	g_assert_cmpstr(g_hash_table_lookup(m.values, "value"), ==, "123");
	worker_msg_answer_prompt_clear(&m);
	fake_command_free(c);
	/* while the worker has it, a chat is no second answer */
	chat(gw, ALICE_PC, "456");
	said(gw, ALICE_PC, "Still working on your last answer");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);
	FAKE_EMIT(gw->fake, prompt_error, .account = account, .prompt = 7, .text = "too short");
	g_autofree char *again = expect_said(gw, ALICE_PC, "Not accepted: too short");
	g_assert_nonnull(strstr(again, "Code"));
	chat(gw, ALICE_PC, "123456");
	fake_command_free(gw_take_command(gw, WORKER_ANSWER_PROMPT));
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 7,
	          .why = WORKER_PROMPT_CLOSED_ANSWERED, .text = "");
	said(gw, ALICE_PC, "your answer to 'Login code' was taken");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);
	gw_expect_nothing(gw);
}

static void setup_admin(struct gw *gw, gconstpointer unused)
{
	(void)unused;
	gw_test_setup(gw, "[access]\nadmins = " ADMIN "\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, setup_admin, fn, gw_test_teardown)
	ADD("/chatbot/hygiene", test_hygiene);
	ADD("/chatbot/receipt", test_receipt);
	ADD("/chatbot/rate", test_rate);
	ADD("/chatbot/help-by-role", test_help_by_role);
	ADD("/chatbot/unknown", test_unknown);
	ADD("/chatbot/settings-by-chat", test_settings_by_chat);
	ADD("/chatbot/unregister-confirm", test_unregister_confirm);
	ADD("/chatbot/abort", test_abort);
	ADD("/chatbot/expired", test_expired);
	ADD("/chatbot/answer-touches", test_answer_touches);
	ADD("/chatbot/prompt-fields", test_prompt_fields);
	ADD("/chatbot/masked-warning", test_masked_warning);
	ADD("/chatbot/prompt-elsewhere", test_prompt_elsewhere);
	ADD("/chatbot/prompt-waits", test_prompt_waits);
	ADD("/chatbot/worker-prompt", test_worker_prompt);
	return g_test_run();
}
