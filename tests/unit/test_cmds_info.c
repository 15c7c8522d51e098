/* Unit tests for cmds_info.c through XEP-0050 on the gateway fixture: the
 * status command (the login, LINK_INFO, the roster method, missing
 * contacts and the fix), the contacts table, and the prompts command (a
 * question picked, answered once; a second route refused). */
#include "config.h"

#include "cmd_helpers.h"
#include "ferry/worker_msgs.h"

#define BOB "bob@" GW_JID

static void setup(struct gw *gw, gconstpointer data)
{
	gw_test_setup(gw, data);
}

static void buddy(struct gw *gw, guint32 account, const char *name, const char *message)
{
	FAKE_EMIT(gw->fake, buddy_status, .account = account, .name = name, .alias = "",
	          .status = WORKER_STATUS_AVAILABLE, .message = message);
}

/* The value of fixed field VAR of the status form. */
static const char *fixed(const struct dataform *f, const char *var)
{
	const char *v = dataform_get_value(f, var);
	g_assert_nonnull(v);
	return v;
}

/* ---- status --------------------------------------------------------------------------- */

static void test_status_link(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, link_info, .account = account, .encrypted = true,
	          .subject = "CN=irc.example.net", .issuer = "CN=Example CA", .sha256 = "AB:CD:EF",
	          .trust = WORKER_TRUST_PINNED);
	struct stanza *iq = cmd_execute(gw, ALICE_PC, "status");
	g_assert_cmpstr(cmd_status(iq), ==, "executing");
	struct dataform *f = cmd_form(iq);
	g_assert_true(g_str_has_prefix(fixed(f, "state"), "online, signed on to IRC as alice"));
	g_assert_cmpstr(fixed(f, "error"), ==, "none");
	g_assert_cmpstr(fixed(f, "encrypted"), ==, "encrypted (TLS)");
	g_assert_cmpstr(fixed(f, "cert_subject"), ==, "CN=irc.example.net");
	g_assert_cmpstr(fixed(f, "cert_issuer"), ==, "CN=Example CA");
	g_assert_cmpstr(fixed(f, "cert_sha256"), ==, "AB:CD:EF");
	g_assert_cmpstr(fixed(f, "cert_trust"), ==, "always accepted by you for this account");
	g_assert_cmpstr(fixed(f, "prompts"), ==, "0");
	g_assert_true(
	    g_str_has_prefix(fixed(f, "roster_method"), "XEP-0356 not granted by " GW_DOMAIN));
	g_assert_cmpstr(fixed(f, "missing"), ==, "0");
	g_assert_cmpint(dataform_field_type(dataform_find_field(f, "fix")), ==, DATAFORM_BOOLEAN);
	g_autofree char *sid = cmd_sid(iq);
	dataform_free(f);
	stanza_free(iq);
	iq = cmd_submit(gw, ALICE_PC, "status", sid, "complete", "");
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	g_autofree char *note = cmd_note(iq);
	g_assert_cmpstr(note, ==, "No change");
	stanza_free(iq);

	/* the login ends: its link is forgotten; the privilege shows */
	gw_injectf(gw, "<message from='" GW_DOMAIN "' to='" GW_JID "'><privilege xmlns='"
	               "urn:xmpp:privilege:2'><perm access='roster' type='both'/></privilege>"
	               "</message>");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_clear(gw);
	iq = cmd_execute(gw, ALICE_PC, "status");
	f = cmd_form(iq);
	g_assert_cmpstr(fixed(f, "state"), ==, "offline");
	g_assert_cmpstr(fixed(f, "encrypted"), ==, "not connected");
	g_assert_null(dataform_find_field(f, "cert_subject"));
	g_assert_true(g_str_has_prefix(fixed(f, "roster_method"),
	                               "XEP-0356 urn:xmpp:privilege:2 granted by " GW_DOMAIN));
	dataform_free(f);
	stanza_free(iq);
}

/* Without a grant each contact asks once; the fix asks the missing ones
 * again, and a contact the user accepted is no longer missing. */
static void test_status_fix(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "");
	gw_expect(gw, "presence", "subscribe", ALICE);
	GW_ASSERT_STORED(gw, "bob:1");
	gw_clear(gw);
	struct stanza *iq = cmd_execute(gw, ALICE_PC, "status");
	struct dataform *f = cmd_form(iq);
	g_assert_cmpstr(fixed(f, "missing"), ==, "1");
	g_autofree char *sid = cmd_sid(iq);
	dataform_free(f);
	stanza_free(iq);
	iq = cmd_submit(gw, ALICE_PC, "status", sid, "complete",
	                "<field var='fix'><value>true</value></field>");
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	g_autofree char *note = cmd_note(iq);
	g_assert_cmpstr(
	    note, ==, "Asked again for 1 contact: accept the subscription request in your client");
	stanza_free(iq);
	struct stanza *ask = gw_expect(gw, "presence", "subscribe", ALICE);
	g_assert_cmpstr(stanza_get_from(ask), ==, BOB);
	stanza_free(ask);

	/* accepted: in the roster, nothing to fix */
	gw_inject(gw, "<presence from='" ALICE "' to='" BOB "' type='subscribed'/>");
	GW_ASSERT_STORED(gw, "bob:3");
	gw_clear(gw);
	iq = cmd_execute(gw, ALICE_PC, "status");
	f = cmd_form(iq);
	g_assert_cmpstr(fixed(f, "missing"), ==, "0");
	dataform_free(f);
	stanza_free(iq);
}

/* ---- contacts ------------------------------------------------------------------------- */

static void test_contacts_table(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "lunch");
	FAKE_EMIT(gw->fake, buddy_status, .account = account, .name = "carol", .alias = "Carol C",
	          .status = WORKER_STATUS_AWAY, .message = "");
	gw_clear(gw);
	struct stanza *iq = cmd_execute(gw, ALICE_PC, "contacts");
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	g_autofree char *note = cmd_note(iq);
	g_assert_cmpstr(note, ==, "2 contacts");
	struct dataform *f = cmd_form(iq);
	g_assert_cmpint(dataform_get_type(f), ==, DATAFORM_RESULT);
	g_assert_cmpuint(dataform_n_columns(f), ==, 3);
	g_assert_cmpstr(dataform_column_var(f, 1), ==, "jid");
	g_assert_cmpint(dataform_column_type(f, 1), ==, DATAFORM_JID_SINGLE);
	g_assert_cmpuint(dataform_n_rows(f), ==, 2);
	g_assert_cmpstr(dataform_cell(f, 0, 0), ==, "bob");
	g_assert_cmpstr(dataform_cell(f, 0, 1), ==, BOB);
	g_assert_cmpstr(dataform_cell(f, 0, 2), ==, "available (lunch)");
	g_assert_cmpstr(dataform_cell(f, 1, 0), ==, "Carol C");
	g_assert_cmpstr(dataform_cell(f, 1, 2), ==, "away");
	dataform_free(f);
	stanza_free(iq);
}

/* ---- prompts -------------------------------------------------------------------------- */

static void test_prompts_none(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	struct stanza *iq = cmd_execute(gw, ALICE_PC, "prompts");
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	g_autofree char *note = cmd_note(iq);
	g_assert_cmpstr(note, ==, "No questions are waiting");
	stanza_free(iq);
}

/* A worker's input prompt (id WID) on ACCOUNT. */
static void raise_prompt(struct gw *gw, guint32 account, guint32 wid)
{
	g_autoptr(GPtrArray) form =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	GHashTable *field = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(field, WORKER_PROMPT_FIELD_VAR, "value");
	g_hash_table_insert(field, WORKER_PROMPT_FIELD_TYPE, "text-single");
	g_hash_table_insert(field, WORKER_PROMPT_FIELD_LABEL, "Code");
	g_hash_table_insert(field, WORKER_PROMPT_FIELD_REQUIRED, "1");
	g_ptr_array_add(form, field);
	FAKE_EMIT(gw->fake, prompt, .account = account, .prompt = wid,
	          .kind = WORKER_PROMPT_KIND_INPUT, .title = "Login code",
	          .instructions = "Enter the code we sent", .who = "", .form = form);
}

/* Picked, answered: the worker gets one ANSWER_PROMPT, its confirmation
 * completes the run; the same question by node prompt/<id> meanwhile is
 * refused (answered already). */
static void test_prompts_answer(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	raise_prompt(gw, account, 7);
	gw_clear(gw); /* the chat bot's question */
	struct stanza *iq = cmd_execute(gw, ALICE_PC, "prompts");
	g_assert_cmpstr(cmd_status(iq), ==, "executing");
	struct dataform *f = cmd_form(iq);
	const char *id = dataform_get_value(f, "prompt");
	g_assert_nonnull(id);
	g_autofree char *pid = g_strdup(id);
	g_autofree char *sid = cmd_sid(iq);
	dataform_free(f);
	stanza_free(iq);
	g_autofree char *pick =
	    g_strdup_printf("<field var='prompt'><value>%s</value></field>", pid);
	iq = cmd_submit(gw, ALICE_PC, "prompts", sid, "next", pick);
	g_assert_cmpstr(cmd_status(iq), ==, "executing");
	f = cmd_form(iq);
	g_assert_nonnull(dataform_find_field(f, "value"));
	dataform_free(f);
	stanza_free(iq);

	cmd_submit_only(gw, ALICE_PC, "prompts", sid, "complete",
	                "<field var='value'><value>123456</value></field>");
	struct fake_command *c = gw_take_command(gw, WORKER_ANSWER_PROMPT);
	struct worker_msg_answer_prompt m;
	g_assert_true(worker_msg_answer_prompt_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.prompt, ==, 7);
	g_assert_cmpuint(m.action, ==, WORKER_PROMPT_OK);
	g_assert_cmpstr(g_hash_table_lookup(m.values, "value"), ==, "123456");
	worker_msg_answer_prompt_clear(&m);
	fake_command_free(c);

	/* a second route while the answer is on its way */
	g_autofree char *node = g_strdup_printf("prompt/%s", pid);
	struct stanza *other = cmd_execute(gw, ALICE_PC, node);
	g_autofree char *osid = cmd_sid(other);
	if (g_strcmp0(cmd_status(other), "executing") == 0) {
		stanza_free(other);
		other = cmd_submit(gw, ALICE_PC, node, osid, "complete",
		                   "<field var='value'><value>999</value></field>");
	}
	g_autofree char *onote = cmd_note(other);
	g_assert_cmpstr(onote, ==, "This question was already answered");
	stanza_free(other);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);

	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 7,
	          .why = WORKER_PROMPT_CLOSED_ANSWERED, .text = "");
	iq = gw_expect(gw, "iq", "result", ALICE_PC);
	g_assert_cmpstr(cmd_status(iq), ==, "completed");
	g_autofree char *note = cmd_note(iq);
	g_assert_cmpstr(note, ==, "Your answer was taken");
	stanza_free(iq);
}

/* A value the worker refuses: the stage stays (an error for the iq),
 * the prompt is open again for the next answer. */
static void test_prompts_refused(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	raise_prompt(gw, account, 9);
	gw_clear(gw);
	struct stanza *iq = cmd_execute(gw, ALICE_PC, "prompts");
	struct dataform *f = cmd_form(iq);
	g_autofree char *node = g_strdup_printf("prompt/%s", dataform_get_value(f, "prompt"));
	dataform_free(f);
	stanza_free(iq);
	iq = cmd_execute(gw, ALICE_PC, node);
	g_autofree char *sid = cmd_sid(iq);
	stanza_free(iq);
	cmd_submit_only(gw, ALICE_PC, node, sid, "complete",
	                "<field var='value'><value>x</value></field>");
	fake_command_free(gw_take_command(gw, WORKER_ANSWER_PROMPT));
	FAKE_EMIT(gw->fake, prompt_error, .account = account, .prompt = 9, .text = "digits only");
	iq = gw_expect(gw, "iq", "error", ALICE_PC);
	stanza_free(iq);
	/* open again: the next answer goes */
	cmd_submit_only(gw, ALICE_PC, node, sid, "complete",
	                "<field var='value'><value>42</value></field>");
	fake_command_free(gw_take_command(gw, WORKER_ANSWER_PROMPT));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, setup, fn, gw_test_teardown)
	ADD("/cmds/status/link-info", test_status_link);
	ADD("/cmds/status/fix-asks-again", test_status_fix);
	ADD("/cmds/contacts/table", test_contacts_table);
	ADD("/cmds/prompts/none", test_prompts_none);
	ADD("/cmds/prompts/answer-once", test_prompts_answer);
	ADD("/cmds/prompts/refused", test_prompts_refused);
	return g_test_run();
}
