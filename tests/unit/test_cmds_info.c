/* Unit tests for cmds_info.c: runs of the status command (the login,
 * LINK_INFO, the roster method, missing contacts and the fix), the
 * contacts table, and the prompts command (a question picked, answered
 * once; a second route refused; a refused value), on the gateway fixture
 * with the fake legacy side (cmd_helpers.h). */
#include "config.h"

#include "cmd_helpers.h"
#include "ferry/worker_msgs.h"

#define BOB "bob@" GW_JID

static void buddy(struct gw *gw, guint32 account, const char *name, const char *message)
{
	FAKE_EMIT(gw->fake, buddy_status, .account = account, .name = name, .alias = "",
	          .status = WORKER_STATUS_AVAILABLE, .message = message);
}

/* The value of field VAR of the last stage, which must be there. */
/* The text of fixed field VAR after its "Label: " (the label is in the
 * value: Gajim shows a fixed field's value only). */
static const char *fixed(const struct ct *t, const char *var)
{
	const char *v = ct_value(t, var);
	g_assert_nonnull(v);
	const char *sep = strstr(v, ": ");
	g_assert_nonnull(sep);
	g_assert_cmpint(sep - v, >, 0);
	return sep + 2;
}

/* ---- status --------------------------------------------------------------------------- */

static void test_status_link(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, link_info, .account = account, .encrypted = true,
	          .subject = "CN=irc.example.net", .issuer = "CN=Example CA", .sha256 = "AB:CD:EF",
	          .trust = WORKER_TRUST_PINNED);
	ct_start(t, ALICE_PC, "status");
	g_assert_cmpuint(t->rec.stages, ==, 1);
	g_assert_true(t->rec.last);
	g_assert_cmpstr(fixed(t, "state"), ==, "online, signed on to IRC as alice");
	g_assert_cmpstr(fixed(t, "error"), ==, "none");
	g_assert_cmpstr(fixed(t, "encrypted"), ==, "encrypted (TLS)");
	g_assert_cmpstr(fixed(t, "cert_subject"), ==, "CN=irc.example.net");
	g_assert_cmpstr(fixed(t, "cert_issuer"), ==, "CN=Example CA");
	g_assert_cmpstr(fixed(t, "cert_sha256"), ==, "AB:CD:EF");
	g_assert_cmpstr(fixed(t, "cert_trust"), ==, "always accepted by you for this account");
	g_assert_cmpstr(fixed(t, "prompts"), ==, "0");
	g_assert_true(
	    g_str_has_prefix(fixed(t, "roster_method"), "XEP-0356 not granted by " GW_DOMAIN));
	g_assert_cmpstr(fixed(t, "missing"), ==, "0");
	g_assert_cmpint(dataform_field_type(dataform_find_field(t->rec.form, "fix")), ==,
	                DATAFORM_BOOLEAN);
	ct_submit(t, "");
	g_assert_true(t->rec.ended);
	g_assert_cmpint(t->rec.why, ==, CMD_END_COMPLETED);
	g_assert_cmpstr(t->rec.note, ==, "No change");

	/* the login ends: its link is forgotten; a privilege granted shows */
	gw_inject(gw, "<message from='" GW_DOMAIN "' to='" GW_JID "'><privilege xmlns='"
	              "urn:xmpp:privilege:2'><perm access='roster' type='both'/></privilege>"
	              "</message>");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	ct_start(t, ALICE_PC, "status");
	g_assert_true(g_str_has_prefix(fixed(t, "state"), "offline (the transport does not see"));
	g_assert_cmpstr(fixed(t, "encrypted"), ==, "not connected");
	g_assert_null(dataform_find_field(t->rec.form, "cert_subject"));
	g_assert_true(g_str_has_prefix(fixed(t, "roster_method"),
	                               "XEP-0356 urn:xmpp:privilege:2 granted by " GW_DOMAIN));
	cmd_run_cancel(t->rec.run);
}

/* The legacy side keeps an account's last LINK_INFO for its next owner
 * (a registration's check login adopted by the session). */
static void test_link_info_kept(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	guint32 account = gw_online(gw, "alice");
	struct worker_msg_link_info li;
	g_assert_false(legacy_link_info(gw->legacy, account, &li));
	FAKE_EMIT(gw->fake, link_info, .account = account, .encrypted = false, .subject = "",
	          .issuer = "", .sha256 = "", .trust = WORKER_TRUST_NONE);
	FAKE_EMIT(gw->fake, link_info, .account = account, .encrypted = true, .subject = "CN=b",
	          .issuer = "CN=c", .sha256 = "01", .trust = WORKER_TRUST_CA);
	g_assert_true(legacy_link_info(gw->legacy, account, &li));
	g_assert_true(li.encrypted);
	g_assert_cmpstr(li.subject, ==, "CN=b");
	g_assert_cmpuint(li.trust, ==, WORKER_TRUST_CA);
	worker_msg_link_info_clear(&li);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	g_assert_false(legacy_link_info(gw->legacy, account, &li));
}

/* A registration's check login reports LINK_INFO to the registration; the
 * session that adopts the kept login shows it. */
static void test_link_info_adopted(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	gw_inject(gw, "<iq type='set' id='r1' from='bob@example.org/pc' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>"
	              "<field var='FORM_TYPE'><value>jabber:iq:register</value></field>"
	              "<field var='username'><value>bob</value></field>"
	              "<field var='password'><value>pw</value></field>"
	              "<field var='port'><value>6697</value></field>"
	              "<field var='ssl'><value>1</value></field></x></query></iq>");
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = c->account;
	fake_command_free(c);
	FAKE_EMIT(gw->fake, link_info, .account = account, .encrypted = true, .subject = "CN=irc",
	          .issuer = "CN=ca", .sha256 = "FF", .trust = WORKER_TRUST_ONCE);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "bob");
	stanza_free(gw_expect(gw, "iq", "result", "bob@example.org/pc"));
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" GW_JID "'/>");
	fake_command_free(gw_take_command(gw, WORKER_KEEP));
	ct_start(t, "bob@example.org/pc", "status");
	g_assert_cmpstr(fixed(t, "state"), ==, "online, signed on to IRC as bob");
	g_assert_cmpstr(fixed(t, "encrypted"), ==, "encrypted (TLS)");
	g_assert_cmpstr(fixed(t, "cert_subject"), ==, "CN=irc");
	g_assert_cmpstr(fixed(t, "cert_trust"), ==, "accepted by you for this login only");
	cmd_run_cancel(t->rec.run);
}

/* Without a grant each contact asks once; the fix asks the missing ones
 * again, and a contact the user accepted is no longer missing. */
static void test_status_fix(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "");
	stanza_free(gw_expect(gw, "presence", "subscribe", ALICE));
	GW_ASSERT_STORED(gw, "bob:1");
	gw_clear(gw);
	ct_start(t, ALICE_PC, "status");
	g_assert_cmpstr(fixed(t, "missing"), ==, "1");
	ct_submit(t, "<field var='fix'><value>true</value></field>");
	g_assert_true(t->rec.ended);
	g_assert_cmpstr(
	    t->rec.note, ==,
	    "Asked again for 1 contact: accept the subscription request in your client");
	struct stanza *ask = gw_expect(gw, "presence", "subscribe", ALICE);
	g_assert_cmpstr(stanza_get_from(ask), ==, BOB);
	stanza_free(ask);

	/* accepted: in the roster, nothing to fix */
	gw_inject(gw, "<presence from='" ALICE "' to='" BOB "' type='subscribed'/>");
	GW_ASSERT_STORED(gw, "bob:3");
	ct_start(t, ALICE_PC, "status");
	g_assert_cmpstr(fixed(t, "missing"), ==, "0");
	ct_submit(t, "<field var='fix'><value>true</value></field>");
	g_assert_cmpstr(t->rec.note, ==, "Every contact is in your roster already: nothing to fix");
}

/* ---- contacts ------------------------------------------------------------------------- */

static void test_contacts_table(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "lunch");
	FAKE_EMIT(gw->fake, buddy_status, .account = account, .name = "carol", .alias = "Carol C",
	          .status = WORKER_STATUS_AWAY, .message = "");
	ct_start(t, ALICE_PC, "contacts");
	g_assert_true(t->rec.ended);
	g_assert_cmpstr(t->rec.note, ==, "2 contacts");
	const struct dataform *f = t->rec.result;
	g_assert_nonnull(f);
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
}

/* ---- prompts -------------------------------------------------------------------------- */

static void test_prompts_none(struct ct *t, gconstpointer unused)
{
	(void)gw_online(&t->gw, "alice");
	ct_start(t, ALICE_PC, "prompts");
	g_assert_true(t->rec.ended);
	g_assert_cmpstr(t->rec.note, ==, "No questions are waiting");
}

/* A worker's input prompt (id WID) on ACCOUNT. */
static void raise_prompt(struct gw *gw, guint32 account, guint32 wid)
{
	g_autoptr(GPtrArray) form =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	GHashTable *field = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(field, g_strdup(WORKER_PROMPT_FIELD_VAR), g_strdup("value"));
	g_hash_table_insert(field, g_strdup(WORKER_PROMPT_FIELD_TYPE), g_strdup("text-single"));
	g_hash_table_insert(field, g_strdup(WORKER_PROMPT_FIELD_LABEL), g_strdup("Code"));
	g_hash_table_insert(field, g_strdup(WORKER_PROMPT_FIELD_REQUIRED), g_strdup("1"));
	g_ptr_array_add(form, field);
	FAKE_EMIT(gw->fake, prompt, .account = account, .prompt = wid,
	          .kind = WORKER_PROMPT_KIND_INPUT, .title = "Login code",
	          .instructions = "Enter the code we sent", .who = "", .form = form);
}

/* The worker got one ANSWER_PROMPT of WID with VALUE. */
static void expect_answer(struct gw *gw, guint32 wid, const char *value)
{
	struct fake_command *c = gw_take_command(gw, WORKER_ANSWER_PROMPT);
	struct worker_msg_answer_prompt m;
	g_assert_true(worker_msg_answer_prompt_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.prompt, ==, wid);
	g_assert_cmpuint(m.action, ==, WORKER_PROMPT_OK);
	g_assert_cmpstr(g_hash_table_lookup(m.values, "value"), ==, value);
	worker_msg_answer_prompt_clear(&m);
	fake_command_free(c);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);
}

/* Picked, answered: the worker gets one ANSWER_PROMPT, its confirmation
 * completes the run; the same question by node prompt/<id> meanwhile is
 * refused (answered already). */
static void test_prompts_answer(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	guint32 account = gw_online(gw, "alice");
	raise_prompt(gw, account, 7);
	ct_start(t, ALICE_PC, "prompts");
	g_assert_false(t->rec.ended);
	g_assert_false(t->rec.last);
	g_autofree char *pid = g_strdup(ct_value(t, "prompt"));
	g_assert_nonnull(pid);
	g_autofree char *pick =
	    g_strdup_printf("<field var='prompt'><value>%s</value></field>", pid);
	ct_submit(t, pick);
	g_assert_cmpuint(t->rec.stages, ==, 2);
	g_assert_true(t->rec.last);
	g_assert_nonnull(dataform_find_field(t->rec.form, "value"));
	ct_submit(t, "<field var='value'><value>123456</value></field>");
	g_assert_false(t->rec.ended); /* waits for the worker */
	expect_answer(gw, 7, "123456");
	struct rec first = t->rec;

	/* a second route while the answer is on its way */
	memset(&t->rec, 0, sizeof(t->rec));
	g_autofree char *node = g_strdup_printf("prompt/%s", pid);
	ct_start(t, ALICE_PC, node);
	if (!t->rec.ended)
		ct_submit(t, "<field var='value'><value>999</value></field>");
	g_assert_true(t->rec.ended);
	g_assert_cmpstr(t->rec.note, ==, "This question was already answered");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);
	rec_clear(&t->rec);
	t->rec = first;

	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 7,
	          .why = WORKER_PROMPT_CLOSED_ANSWERED, .text = "");
	g_assert_true(t->rec.ended);
	g_assert_cmpint(t->rec.why, ==, CMD_END_COMPLETED);
	g_assert_cmpstr(t->rec.note, ==, "Your answer was taken");
}

/* A value the worker refuses: the stage stays with the text, the prompt
 * is open for the next answer; withdrawn, the run ends saying so. */
static void test_prompts_refused(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	guint32 account = gw_online(gw, "alice");
	raise_prompt(gw, account, 9);
	ct_start(t, ALICE_PC, "prompts");
	g_autofree char *node = g_strdup_printf("prompt/%s", ct_value(t, "prompt"));
	cmd_run_cancel(t->rec.run);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);
	ct_start(t, ALICE_PC, node);
	g_assert_cmpuint(t->rec.stages, ==, 1);
	ct_submit(t, "<field var='value'><value>x</value></field>");
	expect_answer(gw, 9, "x");
	FAKE_EMIT(gw->fake, prompt_error, .account = account, .prompt = 9, .text = "digits only");
	g_assert_false(t->rec.ended);
	g_assert_nonnull(t->rec.refused);
	ct_submit(t, "<field var='value'><value>42</value></field>");
	expect_answer(gw, 9, "42");
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 9,
	          .why = WORKER_PROMPT_CLOSED_WITHDRAWN, .text = "The login ended");
	g_assert_true(t->rec.ended);
	g_assert_cmpstr(t->rec.note, ==, "The login ended");
}

/* The same through XEP-0050 (adhoc.c, as gateway.c wires it): a stage of
 * status, then completed with its note. */
static void test_status_adhoc(struct ct *t, gconstpointer unused)
{
	struct gw *gw = &t->gw;
	(void)gw_online(gw, "alice");
	gw_inject(gw, "<iq type='set' id='e1' from='" ALICE_PC "' to='" GW_JID "'><command xmlns='"
	              "http://jabber.org/protocol/commands' node='status' action='execute'/></iq>");
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	const struct stanza *c =
	    stanza_find_child(r, "command", "http://jabber.org/protocol/commands");
	g_assert_cmpstr(stanza_get_attr(c, "status"), ==, "executing");
	g_autofree char *sid = g_strdup(stanza_get_attr(c, "sessionid"));
	g_autofree char *xml = stanza_to_string(r);
	g_assert_nonnull(strstr(xml, "var='fix'"));
	g_assert_nonnull(strstr(xml, "var='roster_method'"));
	stanza_free(r);
	gw_injectf(gw,
	           "<iq type='set' id='e2' from='" ALICE_PC "' to='" GW_JID "'><command xmlns='"
	           "http://jabber.org/protocol/commands' node='status' sessionid='%s' "
	           "action='complete'/></iq>",
	           sid);
	r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_autofree char *done = stanza_to_string(r);
	g_assert_nonnull(strstr(done, "status='completed'"));
	g_assert_nonnull(strstr(done, "No change"));
	stanza_free(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct ct, NULL, ct_setup, fn, ct_teardown)
	ADD("/cmds/status/link-info", test_status_link);
	ADD("/cmds/status/fix-asks-again", test_status_fix);
	ADD("/cmds/status/adhoc", test_status_adhoc);
	ADD("/cmds/status/link-info-kept", test_link_info_kept);
	ADD("/cmds/status/link-info-adopted", test_link_info_adopted);
	ADD("/cmds/contacts/table", test_contacts_table);
	ADD("/cmds/prompts/none", test_prompts_none);
	ADD("/cmds/prompts/answer-once", test_prompts_answer);
	ADD("/cmds/prompts/refused-withdrawn", test_prompts_refused);
	return g_test_run();
}
