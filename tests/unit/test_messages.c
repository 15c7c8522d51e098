/* Unit tests for messages (src/gateway/messages.c), through the fake
 * legacy side: the user's messages to contacts (escaped names, libpurple
 * markup, sequence numbers, acknowledgements, failures bounced), chat
 * states both ways, the outbox while connecting and its age limit,
 * messages in flight across a lost worker, a fatal failure and shutdown,
 * messages and notices from the legacy side, and the refusals. */
#include "config.h"

#include <string.h>

#include <sqlite3.h>

#include "gateway_fixture.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define JOHN "john\\20smith@" GW_JID /* the contact JID of "john smith" */
#define BOB "bob@" GW_JID
/* contacts' messages come from their full JIDs */
#define JOHN_FULL JOHN "/" GW_RESOURCE
#define BOB_FULL BOB "/" GW_RESOURCE

/* Asserts that stanza S serializes to exactly XML. */
#define assert_xml(s, xml)                                                                         \
	do {                                                                                       \
		g_autofree char *got_ = stanza_to_string(s);                                       \
		g_assert_cmpstr(got_, ==, (xml));                                                  \
	} while (0)

/* Takes the sent stanza matching NAME, TYPE and TO and asserts it is XML. */
static void expect_xml(struct gw *gw, const char *name, const char *type, const char *to,
                       const char *xml)
{
	struct stanza *s = gw_expect(gw, name, type, to);
	assert_xml(s, xml);
	stanza_free(s);
}

/* Takes the oldest SEND_IM, asserts its account, name and text, and
 * returns its sequence number. */
static guint32 expect_im(struct gw *gw, guint32 account, const char *name, const char *text)
{
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im m;
	g_assert_true(worker_msg_send_im_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.account, ==, account);
	g_assert_cmpstr(m.name, ==, name);
	g_assert_cmpstr(m.text, ==, text);
	guint32 seq = m.seq;
	worker_msg_send_im_clear(&m);
	fake_command_free(c);
	return seq;
}

/* A chat message from ALICE_PC to contact localpart LOCAL, with ID and
 * BODY (XML-escaped already). */
static void send_chat(struct gw *gw, const char *local, const char *id, const char *body)
{
	gw_injectf(gw,
	           "<message from='" ALICE_PC "' to='%s@" GW_JID "' type='chat' id='%s'>"
	           "<body>%s</body></message>",
	           local, id, body);
}

static guint outbox_count(struct gw *gw)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items = storage_outbox_list(gw->storage, ALICE, &err);
	g_assert_no_error(err);
	return items->len;
}

/* ALICE's presence and the login it starts, without CONNECTED: the session
 * is CONNECTING. Returns the account. */
static guint32 connecting(struct gw *gw)
{
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = c->account;
	fake_command_free(c);
	gw_clear(gw);
	return account;
}

/* The bounce of the chat message ID with BODY sent to JOHN by ALICE_PC. */
#define JOHN_BOUNCE(id, body, type, condition, text)                                               \
	"<message from='" JOHN "' to='" ALICE_PC "' type='error' id='" id "'><body>" body          \
	"</body><error type='" type "'><" condition " xmlns='" STANZA_NS_STANZAS "'/>"             \
	"<text xmlns='" STANZA_NS_STANZAS "'>" text "</text></error></message>"

/* ---- the user's messages while online --------------------------------------------------- */

/* The legacy name is the unescaped localpart, the text is escaped into
 * libpurple's HTML (newlines pass as they are), sequence numbers grow. */
static void test_send_online(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "john\\20smith", "m1", "1 &lt; 2 &amp; \"x\"\nnext &gt; line");
	guint32 first =
	    expect_im(gw, account, "john smith", "1 &lt; 2 &amp; &quot;x&quot;\nnext &gt; line");
	send_chat(gw, "bob", "m2", "hi");
	guint32 second = expect_im(gw, account, "bob", "hi");
	g_assert_cmpuint(second, >, first);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	g_assert_cmpuint(outbox_count(gw), ==, 0);

	/* Acknowledged: a late failure report finds nothing to bounce, and a
	 * lost worker nothing to send again. */
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = second);
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = first, .sent = false,
	          .error = "late");
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	fake_legacy_lose(gw->fake, account);
	g_assert_cmpuint(outbox_count(gw), ==, 0);
	(void)gw_relogin(gw, "alice");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_IM), ==, 0);
}

/* A failure comes back to the sender's full JID from the contact, with its
 * id, its body and the legacy side's reason. */
static void test_send_failed(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "john\\20smith", "m1", "a &amp; b");
	guint32 seq = expect_im(gw, account, "john smith", "a &amp; b");
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false,
	          .error = "No such nick/channel");
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m1", "a &amp; b", "wait", "recipient-unavailable",
	                       "IRC did not take the message: No such nick/channel"));
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);

	/* No reason given; the same result twice bounces once. */
	send_chat(gw, "john\\20smith", "m2", "again");
	seq = expect_im(gw, account, "john smith", "again");
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false, .error = "");
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false, .error = "");
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m2", "again", "wait", "recipient-unavailable",
	                       "IRC did not take the message: unknown error"));
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	/* ... and it is no longer in flight: a lost worker requeues nothing */
	fake_legacy_lose(gw->fake, account);
	g_assert_cmpuint(outbox_count(gw), ==, 0);
}

/* ---- chat states ------------------------------------------------------------------------ */

static void test_chat_states_to_legacy(struct gw *gw, gconstpointer unused)
{
	const struct {
		const char *state;
		guint32 typing;
	} cases[] = {
	    {"composing", WORKER_TYPING_ACTIVE}, {"paused", WORKER_TYPING_PAUSED},
	    {"active", WORKER_TYPING_NONE},      {"inactive", WORKER_TYPING_NONE},
	    {"gone", WORKER_TYPING_NONE},
	};
	guint32 account = gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		gw_injectf(gw,
		           "<message from='" ALICE_PC "' to='" JOHN "' type='chat'>"
		           "<%s xmlns='" NS_CHATSTATES "'/></message>",
		           cases[i].state);
		struct fake_command *c = gw_take_command(gw, WORKER_SEND_TYPING);
		struct worker_msg_send_typing m;
		g_assert_true(worker_msg_send_typing_read(c->payload, c->account, &m));
		g_assert_cmpuint(m.account, ==, account);
		g_assert_cmpstr(m.name, ==, "john smith");
		g_assert_cmpuint(m.state, ==, cases[i].typing);
		worker_msg_send_typing_clear(&m);
		fake_command_free(c);
		g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	}
	/* A state in another namespace is none (a payload IRC cannot carry,
	 * refused: test_content); with a body only the body goes. */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" JOHN "' type='chat'>"
	              "<composing xmlns='urn:example:other'/></message>");
	stanza_free(gw_expect(gw, "message", "error", ALICE_PC));
	gw_inject(gw, "<message from='" ALICE_PC "' to='" JOHN "' type='chat'><body>x</body>"
	              "<composing xmlns='" NS_CHATSTATES "'/></message>");
	(void)expect_im(gw, account, "john smith", "x");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
}

/* Not online: chat states go nowhere, and nothing comes back. */
static void test_chat_states_not_online(struct gw *gw, gconstpointer unused)
{
	const char *composing = "<message from='" ALICE_PC "' to='" JOHN "' type='chat'>"
	                        "<composing xmlns='" NS_CHATSTATES "'/></message>";
	gw_inject(gw, composing); /* OFFLINE */
	(void)connecting(gw);
	gw_inject(gw, composing); /* CONNECTING */
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	g_assert_cmpuint(outbox_count(gw), ==, 0);
}

static void test_typing_from_legacy(struct gw *gw, gconstpointer unused)
{
	const struct {
		guint32 typing;
		const char *state;
	} cases[] = {
	    {WORKER_TYPING_ACTIVE, "composing"},
	    {WORKER_TYPING_PAUSED, "paused"},
	    {WORKER_TYPING_NONE, "active"},
	};
	guint32 account = gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		FAKE_EMIT(gw->fake, typing, .account = account, .name = "john smith",
		          .state = cases[i].typing);
		g_autofree char *xml =
		    g_strdup_printf("<message from='" JOHN_FULL "' to='" ALICE "' type='chat'>"
		                    "<%s xmlns='" NS_CHATSTATES "'/></message>",
		                    cases[i].state);
		expect_xml(gw, "message", "chat", ALICE, xml);
	}
	/* from a name no JID can carry: nothing */
	FAKE_EMIT(gw->fake, typing, .account = account, .name = " lead space",
	          .state = WORKER_TYPING_ACTIVE);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
}

/* ---- not online: the outbox, or a bounce -------------------------------------------------- */

/* While the login is under way the message waits, encrypted, in the
 * outbox, and goes after CONNECTED; it leaves the outbox when acknowledged. */
static void test_outbox_while_connecting(struct gw *gw, gconstpointer unused)
{
	guint32 account = connecting(gw);
	send_chat(gw, "john\\20smith", "m1", "a &lt;b&gt;");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items = storage_outbox_list(gw->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(items->len, ==, 1);
	const struct storage_outbox_item *it = g_ptr_array_index(items, 0);
	g_assert_cmpstr(it->legacy_name, ==, "john smith");
	g_assert_cmpstr(it->text, ==, "a <b>");
	g_assert_cmpstr(it->stanza_id, ==, "m1");
	g_assert_cmpstr(it->sender, ==, ALICE_PC);

	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	guint32 seq = expect_im(gw, account, "john smith", "a &lt;b&gt;");
	g_assert_cmpuint(outbox_count(gw), ==, 1); /* in flight until acknowledged */
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = seq);
	g_assert_cmpuint(outbox_count(gw), ==, 0);
	g_assert_null(gw_take_match(gw, "message", "*", NULL));
}

/* A failure of a message sent from the outbox bounces it with what was
 * stored and deletes its row. */
static void test_outbox_item_failed(struct gw *gw, gconstpointer unused)
{
	guint32 account = connecting(gw);
	send_chat(gw, "john\\20smith", "m1", "hello");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	guint32 seq = expect_im(gw, account, "john smith", "hello");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false,
	          .error = "Cannot send to channel");
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m1", "hello", "wait", "recipient-unavailable",
	                       "IRC did not take the message: Cannot send to channel"));
	g_assert_cmpuint(outbox_count(gw), ==, 0);
}

/* A network loss: what was in flight goes back to the outbox, what the
 * user sends while reconnecting waits there too; both go, in order, once
 * signed on again. */
static void test_outbox_while_reconnecting(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "in flight");
	(void)expect_im(gw, account, "bob", "in flight");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "reset", .fatal = false);
	g_assert_cmpuint(outbox_count(gw), ==, 1);
	gw_clear(gw);
	send_chat(gw, "bob", "m2", "later");
	g_assert_cmpuint(outbox_count(gw), ==, 2);
	g_assert_null(gw_take_match(gw, "message", "*", NULL));
	account = gw_relogin(gw, "alice");
	(void)expect_im(gw, account, "bob", "in flight");
	(void)expect_im(gw, account, "bob", "later");
}

/* The user goes away with a message waiting (queued while connecting) and
 * one in flight: the login stays until the worker has sent both (a long
 * message is still going out line by line), then logs out; nothing is
 * bounced, stored or sent twice. */
static void test_drain_on_logout(struct gw *gw, gconstpointer unused)
{
	guint32 account = connecting(gw);
	send_chat(gw, "bob", "m1", "queued");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	guint32 first = expect_im(gw, account, "bob", "queued");
	send_chat(gw, "bob", "m2", "direct");
	guint32 second = expect_im(gw, account, "bob", "direct");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	/* still logged in: no logout, nothing said */
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	g_assert_null(gw_take_match(gw, "message", "*", NULL));
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = first);
	gw_run_for(20);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = second);
	gw_run_for(20);
	struct fake_command *c = gw_take_command(gw, WORKER_LOGOUT);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	g_assert_cmpuint(outbox_count(gw), ==, 0);
	g_assert_null(gw_take_match(gw, "message", "*", NULL));
	/* the next login sends nothing again */
	fake_legacy_clear(gw->fake);
	account = connecting(gw);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_IM), ==, 0);
}

/* Coming back while the drain runs: the session goes on, no new login. */
static void test_drain_interrupted(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "long");
	guint32 seq = expect_im(gw, account, "bob", "long");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = seq);
	gw_run_for(20);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0);
}

/* A failure reported after the user left reaches them as a chat message
 * from the transport (a server drops errors to a resource that has gone),
 * naming the contact and how much went. */
static void test_drain_failure_told(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "a very long text");
	guint32 seq = expect_im(gw, account, "bob", "a very long text");
	FAKE_EMIT(gw->fake, im_progress, .account = account, .seq = seq, .lines_sent = 55,
	          .lines = 230, .done = 5);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false,
	          .reason = WORKER_IM_FAILED, .error = "the connection was closed",
	          .lines_sent = 55, .lines = 230, .done = 5);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(m), ==, GW_JID);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_nonnull(strstr(body, "Your message to bob was not delivered"));
	g_assert_nonnull(strstr(body, "55 of 230 lines were sent"));
	g_assert_nonnull(strstr(body, "It began: \"a very long text\""));
	stanza_free(m);
	gw_run_for(20);
	fake_command_free(gw_take_command(gw, WORKER_LOGOUT));
}

/* The connection goes while the drain runs (the user has gone): nobody
 * will send the rest, so each message is reported at once, with how much
 * of it went, and the login ends; nothing waits in the outbox unsaid. */
static void test_drain_cut(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "a very long text");
	guint32 seq = expect_im(gw, account, "bob", "a very long text");
	FAKE_EMIT(gw->fake, im_progress, .account = account, .seq = seq, .lines_sent = 55,
	          .lines = 230, .done = 5);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "Connection reset", .fatal = false);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_nonnull(strstr(body, "Your message to bob was not delivered"));
	g_assert_nonnull(strstr(body, "the connection to IRC was lost (Connection reset)"));
	g_assert_nonnull(strstr(body, "55 of 230 lines were sent"));
	stanza_free(m);
	g_assert_cmpuint(outbox_count(gw), ==, 0);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGIN), ==, 0); /* no retry */
}

/* A fatal loss (here: the password no longer works) ends the session: the
 * message in flight is answered at once with how much of it went, not put
 * back for a login that will not come. */
static void test_fatal_loss_reports_progress(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "a very long text");
	guint32 seq = expect_im(gw, account, "bob", "a very long text");
	FAKE_EMIT(gw->fake, im_progress, .account = account, .seq = seq, .lines_sent = 3,
	          .lines = 9, .done = 5);
	gw_clear(gw);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*login failed for good*");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_AUTH,
	          .text = "Bad password", .fatal = true);
	g_test_assert_expected_messages();
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "m1");
	g_autofree char *text = test_error_text(e, "recipient-unavailable");
	g_assert_cmpstr(text, ==, "not connected to IRC: Bad password (3 of 9 lines were sent)");
	stanza_free(e);
	g_assert_cmpuint(outbox_count(gw), ==, 0);
}

/* ferry stops while an unregistration waits for the worker's word:
 * nothing runs on the session after it is gone (ASan would see it). */
static void test_shutdown_while_leaving(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "long");
	(void)expect_im(gw, account, "bob", "long");
	gw_inject(gw, "<iq type='set' id='u' from='" ALICE_PC "' to='" GW_JID "'>"
	              "<query xmlns='jabber:iq:register'><remove/></query></iq>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_CANCEL_IMS), ==, 1);
	gw_restart(gw);
	gw_run_for(50);
	/* the message is still in the outbox for the next run */
	g_assert_cmpuint(outbox_count(gw), ==, 1);
}

/* IRC's 401 answers the message itself: an error with its id, saying who
 * is not there; a message over the line limit is refused as a policy. */
static void test_no_recipient_and_too_long(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "hi");
	guint32 seq = expect_im(gw, account, "bob", "hi");
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false,
	          .reason = WORKER_IM_NO_RECIPIENT, .error = "bob is not on the network",
	          .lines = 1);
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "m1");
	g_autofree char *xml = stanza_to_string(e);
	g_assert_nonnull(strstr(xml, "<recipient-unavailable "));
	g_assert_nonnull(strstr(xml, "bob is not on IRC: the message was not delivered"));
	stanza_free(e);

	send_chat(gw, "bob", "m2", "long");
	seq = expect_im(gw, account, "bob", "long");
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false,
	          .reason = WORKER_IM_TOO_LONG,
	          .error = "the message would take 41 lines; the limit is 40", .lines = 41);
	e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "m2");
	g_autofree char *xml2 = stanza_to_string(e);
	g_assert_nonnull(strstr(xml2, "<policy-violation "));
	g_assert_nonnull(strstr(xml2, "too long for IRC: the message would take 41 lines"));
	stanza_free(e);
}

/* The configured line limit goes down with every message. */
static void test_max_lines_passed(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "hi");
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im m;
	g_assert_true(worker_msg_send_im_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.account, ==, account);
	g_assert_cmpuint(m.max_lines, ==, 40);
	worker_msg_send_im_clear(&m);
	fake_command_free(c);
}

/* A message that will take a while is announced, with the estimate. */
static void test_slow_message_announced(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "many lines");
	guint32 seq = expect_im(gw, account, "bob", "many lines");
	FAKE_EMIT(gw->fake, im_queued, .account = account, .seq = seq, .lines = 3, .seconds = 2);
	g_assert_null(gw_take_match(gw, "message", "*", NULL));
	FAKE_EMIT(gw->fake, im_queued, .account = account, .seq = seq, .lines = 30, .seconds = 52);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(body, ==,
	                "Your message to bob takes 30 lines on IRC, which go out at the network's "
	                "pace: sending it will take about 52 seconds.");
	stanza_free(m);
}

/* After a lost worker, only what did not go is sent again. */
static void test_requeue_only_the_rest(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "first line\nsecond line");
	guint32 seq = expect_im(gw, account, "bob", "first line\nsecond line");
	FAKE_EMIT(gw->fake, im_progress, .account = account, .seq = seq, .lines_sent = 1,
	          .lines = 2, .done = 11);
	send_chat(gw, "bob", "m2", "all sent");
	guint32 second = expect_im(gw, account, "bob", "all sent");
	FAKE_EMIT(gw->fake, im_progress, .account = account, .seq = second, .lines_sent = 1,
	          .lines = 1, .done = 8);
	fake_legacy_lose(gw->fake, account);
	g_assert_cmpuint(outbox_count(gw), ==, 1);
	account = gw_relogin(gw, "alice");
	(void)expect_im(gw, account, "bob", "second line");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_IM), ==, 0);
}

/* A dropped connection: the worker said how far the message went before
 * DISCONNECTED; the next login sends only the rest. */
static void test_disconnect_requeues_the_rest(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "went\nstill to go");
	guint32 seq = expect_im(gw, account, "bob", "went\nstill to go");
	FAKE_EMIT(gw->fake, im_progress, .account = account, .seq = seq, .lines_sent = 1,
	          .lines = 2, .done = 5);
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "reset", .fatal = false);
	g_assert_cmpuint(outbox_count(gw), ==, 1);
	g_assert_null(gw_take_match(gw, "message", "*", NULL));
	account = gw_relogin(gw, "alice");
	(void)expect_im(gw, account, "bob", "still to go");
}

/* Unregistering with a message half sent: its error, saying how much
 * went, comes before the unsubscribe. */
static void test_unregister_reports_first(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "half");
	guint32 seq = expect_im(gw, account, "bob", "half");
	FAKE_EMIT(gw->fake, im_progress, .account = account, .seq = seq, .lines_sent = 3,
	          .lines = 10, .done = 2);
	gw_clear(gw);
	send_chat(gw, "bob", "m2", "whole");
	guint32 whole = expect_im(gw, account, "bob", "whole");
	gw_inject(gw, "<iq from='" ALICE_PC "' to='" GW_JID "' type='set' id='u1'>"
	              "<query xmlns='jabber:iq:register'><remove/></query></iq>");
	/* the worker is asked to drop what it has not sent; the logout waits
	 * for its answer */
	fake_command_free(gw_take_command(gw, WORKER_CANCEL_IMS));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	g_assert_null(gw_take_match(gw, "iq", "result", NULL));
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false,
	          .reason = WORKER_IM_CANCELLED, .error = "cancelled", .lines_sent = 3, .lines = 10,
	          .done = 2);
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = whole);
	gw_run_for(20);
	fake_command_free(gw_take_command(gw, WORKER_LOGOUT));
	struct stanza *first = NULL;
	guint error_at = 0, unsubscribe_at = 0;
	for (guint i = 1; (first = gw_take(gw)) != NULL; i++) {
		if (g_strcmp0(stanza_get_type(first), "error") == 0 &&
		    g_strcmp0(stanza_name(first), "message") == 0) {
			g_autofree char *xml = stanza_to_string(first);
			g_assert_nonnull(strstr(
			    xml, "you unregistered from the transport (3 of 10 lines were sent)"));
			g_assert_cmpstr(stanza_get_id(first), ==, "m1"); /* m2 went */
			g_assert_cmpuint(error_at, ==, 0);
			error_at = i;
		}
		if (g_strcmp0(stanza_get_type(first), "unsubscribe") == 0 &&
		    g_strcmp0(stanza_get_from(first), GW_JID) == 0)
			unsubscribe_at = i; /* the transport's own */
		stanza_free(first);
	}
	g_assert_cmpuint(error_at, >, 0);
	g_assert_cmpuint(unsubscribe_at, >, error_at);
	g_autoptr(GError) err = NULL;
	g_assert_null(storage_user_get(gw->storage, ALICE, &err));
}

/* Offline (never available) or failed: bounced at once, with the reason. */
static void test_bounce_not_connected(struct gw *gw, gconstpointer unused)
{
	send_chat(gw, "john\\20smith", "m1", "anyone?");
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m1", "anyone?", "wait", "recipient-unavailable",
	                       "you are not connected to IRC (be available to the transport to "
	                       "connect)"));
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);

	guint32 account = connecting(gw);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*login failed for good*");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_AUTH,
	          .text = "Incorrect password", .fatal = true);
	g_test_assert_expected_messages();
	gw_clear(gw);
	send_chat(gw, "john\\20smith", "m2", "now?");
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m2", "now?", "wait", "recipient-unavailable",
	                       "you are not connected to IRC: Incorrect password"));
	g_assert_cmpuint(outbox_count(gw), ==, 0);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_IM), ==, 0);
}

/* ---- in flight across losses -------------------------------------------------------------- */

/* Sent, then the worker dies before acknowledging: the message goes back
 * to the outbox and is sent again once signed on; its failure then still
 * bounces to the original sender with the original id. */
static void test_inflight_requeued_on_loss(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "john\\20smith", "m1", "one");
	guint32 seq = expect_im(gw, account, "john smith", "one");
	fake_legacy_lose(gw->fake, account);
	g_assert_cmpuint(outbox_count(gw), ==, 1);
	g_assert_null(gw_take_match(gw, "message", "*", NULL));
	guint32 again = gw_relogin(gw, "alice");
	g_assert_cmpuint(again, !=, account);
	guint32 seq2 = expect_im(gw, again, "john smith", "one");
	g_assert_cmpuint(seq2, >, seq);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_IM), ==, 0);
	FAKE_EMIT(gw->fake, im_result, .account = again, .seq = seq2, .sent = false,
	          .error = "gone");
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m1", "one", "wait", "recipient-unavailable",
	                       "IRC did not take the message: gone"));
	g_assert_cmpuint(outbox_count(gw), ==, 0);
}

/* A message in flight that cannot even be kept (the outbox write fails:
 * here the registration row went away underneath) comes back to its
 * sender instead of vanishing. */
static void test_inflight_unstorable_bounced(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "john\\20smith", "m1", "one");
	(void)expect_im(gw, account, "john smith", "one");
	g_autoptr(GError) err = NULL;
	g_assert_true(storage_user_delete(gw->storage, ALICE, &err));
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*alice@example.org: cannot queue a message*");
	fake_legacy_lose(gw->fake, account);
	g_test_assert_expected_messages();
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m1", "one", "cancel", "internal-server-error",
	                       "the message could not be queued"));
}

/* Acknowledged up to the first of two: only the second is sent again. */
static void test_inflight_partly_acknowledged(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "bob", "m1", "first");
	guint32 first = expect_im(gw, account, "bob", "first");
	send_chat(gw, "bob", "m2", "second");
	(void)expect_im(gw, account, "bob", "second");
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = first);
	fake_legacy_lose(gw->fake, account);
	g_assert_cmpuint(outbox_count(gw), ==, 1);
	account = gw_relogin(gw, "alice");
	(void)expect_im(gw, account, "bob", "second");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_IM), ==, 0);
}

/* A fatal DISCONNECTED bounces everything waiting: in flight from the
 * outbox, in flight sent directly, and what the outbox still holds. */
static void test_fatal_bounces_all(struct gw *gw, gconstpointer unused)
{
	guint32 account = connecting(gw);
	send_chat(gw, "john\\20smith", "m1", "queued");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	(void)expect_im(gw, account, "john smith", "queued");
	send_chat(gw, "john\\20smith", "m2", "direct");
	(void)expect_im(gw, account, "john smith", "direct");
	gw_clear(gw);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*login failed for good*");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NAME_IN_USE,
	          .text = "Nickname in use", .fatal = true);
	g_test_assert_expected_messages();
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m1", "queued", "wait", "recipient-unavailable",
	                       "not connected to IRC: Nickname in use"));
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m2", "direct", "wait", "recipient-unavailable",
	                       "not connected to IRC: Nickname in use"));
	g_assert_null(gw_take_match(gw, "message", "error", NULL));
	g_assert_cmpuint(outbox_count(gw), ==, 0);
}

/* Shutdown with a message from the outbox in flight: the legacy side's
 * last acknowledgement (on logout) still reaches the session, so the row
 * is deleted and the message not sent again by the next run. */
static void test_shutdown_acknowledged(struct gw *gw, gconstpointer unused)
{
	fake_legacy_ack_on_logout(gw->fake, true);
	guint32 account = connecting(gw);
	send_chat(gw, "bob", "m1", "bye");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	(void)expect_im(gw, account, "bob", "bye");
	g_assert_cmpuint(outbox_count(gw), ==, 1);
	g_clear_pointer(&gw->gateway, gateway_free);
	g_assert_cmpuint(outbox_count(gw), ==, 0);
	g_assert_null(gw_take_match(gw, "message", "error", NULL));
}

/* Shutdown without the acknowledgements: nothing says they were handed to
 * the network, so both messages in flight wait in the outbox for the next
 * run, the one sent from it and the one sent directly, as a logout leaves
 * them. */
static void test_shutdown_unacknowledged(struct gw *gw, gconstpointer unused)
{
	guint32 account = connecting(gw);
	send_chat(gw, "bob", "m1", "bye");
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	(void)expect_im(gw, account, "bob", "bye");
	send_chat(gw, "bob", "m2", "direct");
	(void)expect_im(gw, account, "bob", "direct");
	g_clear_pointer(&gw->gateway, gateway_free);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items = storage_outbox_list(gw->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(items->len, ==, 2);
	const struct storage_outbox_item *it = g_ptr_array_index(items, 1);
	g_assert_cmpstr(it->text, ==, "direct");
	g_assert_cmpstr(it->stanza_id, ==, "m2");
	g_assert_cmpstr(it->sender, ==, ALICE_PC);
}

/* ---- the outbox's age limit ----------------------------------------------------------------- */

/* Makes outbox row ID SECONDS older, in the database file itself. */
static void age_outbox_row(struct gw *gw, gint64 id, int seconds)
{
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(gw->settings->database, &db), ==, SQLITE_OK);
	g_autofree char *sql = g_strdup_printf("UPDATE outbox SET created = created - %d "
	                                       "WHERE id = %" G_GINT64_FORMAT,
	                                       seconds, id);
	char *error = NULL;
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, &error), ==, SQLITE_OK);
	g_assert_null(error);
	g_assert_cmpint(sqlite3_changes(db), ==, 1);
	sqlite3_close(db);
}

static gint64 outbox_id(struct gw *gw, guint index)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items = storage_outbox_list(gw->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(index, <, items->len);
	return ((const struct storage_outbox_item *)g_ptr_array_index(items, index))->id;
}

/* Older than 15 minutes at sign-on: bounced with remote-server-timeout and
 * deleted; a younger one is sent. */
static void test_outbox_too_old(struct gw *gw, gconstpointer unused)
{
	guint32 account = connecting(gw);
	send_chat(gw, "john\\20smith", "m1", "stale");
	send_chat(gw, "john\\20smith", "m2", "fresh enough");
	age_outbox_row(gw, outbox_id(gw, 0), 15 * 60 + 60);
	age_outbox_row(gw, outbox_id(gw, 1), 15 * 60 - 60);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	expect_xml(gw, "message", "error", ALICE_PC,
	           JOHN_BOUNCE("m1", "stale", "wait", "remote-server-timeout",
	                       "not delivered: the legacy network was unreachable for too long"));
	g_assert_null(gw_take_match(gw, "message", "error", NULL));
	(void)expect_im(gw, account, "john smith", "fresh enough");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_IM), ==, 0);
	g_assert_cmpuint(outbox_count(gw), ==, 1); /* the fresh one, in flight */
}

/* ---- legacy -> user ------------------------------------------------------------------------ */

/* The id of message M, checked to be ferry-N-<milliseconds>, then removed
 * so the rest can be compared as text. */
static void check_and_drop_id(struct stanza *m, guint n)
{
	g_autofree char *pattern = g_strdup_printf("^ferry-%u-[0-9]{13,}$", n);
	g_assert_true(g_regex_match_simple(pattern, stanza_get_id(m), 0, 0));
	stanza_set_attr(m, "id", NULL);
}

static void test_receive(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "john smith",
	          .text = "<b>bold</b> &amp; &lt;tag&gt;<br>2 &quot;q&quot;", .when = now);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	check_and_drop_id(m, 1);
	assert_xml(m, "<message from='" JOHN_FULL "' to='" ALICE "' type='chat'>"
	              "<body>bold &amp; &lt;tag&gt;\n2 \"q\"</body>"
	              "<active xmlns='" NS_CHATSTATES "'/></message>");
	stanza_free(m);
	/* no time (0), and a few seconds old: no delay either; ids count up */
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "bob", .text = "x", .when = 0);
	m = gw_expect(gw, "message", "chat", ALICE);
	check_and_drop_id(m, 2);
	g_assert_null(stanza_find_child(m, "delay", NULL));
	stanza_free(m);
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "bob", .text = "y",
	          .when = now - 5);
	m = gw_expect(gw, "message", "chat", ALICE);
	check_and_drop_id(m, 3);
	g_assert_null(stanza_find_child(m, "delay", NULL));
	stanza_free(m);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
}

/* More than 10 s old: a XEP-0203 delay from the transport with the time. */
static void test_receive_delayed(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "bob", .text = "old news",
	          .when = 1700000000);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	check_and_drop_id(m, 1);
	assert_xml(m,
	           "<message from='" BOB_FULL "' to='" ALICE "' type='chat'><body>old news</body>"
	           "<active xmlns='" NS_CHATSTATES "'/><delay xmlns='" NS_DELAY "' from='" GW_JID
	           "' stamp='2023-11-14T22:13:20Z'/></message>");
	stanza_free(m);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "bob", .text = "x",
	          .when = now - 60);
	m = gw_expect(gw, "message", "chat", ALICE);
	g_assert_nonnull(stanza_find_child(m, "delay", NS_DELAY));
	stanza_free(m);
}

/* A name no localpart can carry: delivered from the transport, named. */
static void test_receive_unaddressable(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = " lead space",
	          .text = "<i>hi</i>", .when = 0);
	expect_xml(gw, "message", "chat", ALICE,
	           "<message from='" GW_JID "' to='" ALICE "' type='chat'>"
	           "<body>&lt; lead space&gt; hi</body></message>");
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "", .text = "empty",
	          .when = 0);
	expect_xml(gw, "message", "chat", ALICE,
	           "<message from='" GW_JID "' to='" ALICE "' type='chat'>"
	           "<body>&lt;&gt; empty</body></message>");
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
}

static void test_notice(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, notice, .account = account, .title = "Server notice",
	          .text = "<b>maintenance</b> at 5 &amp; 6");
	expect_xml(gw, "message", "chat", ALICE,
	           "<message from='" GW_JID "' to='" ALICE "' type='chat'>"
	           "<body>Server notice: maintenance at 5 &amp; 6</body></message>");
	FAKE_EMIT(gw->fake, notice, .account = account, .title = "", .text = "just this");
	expect_xml(gw, "message", "chat", ALICE,
	           "<message from='" GW_JID "' to='" ALICE "' type='chat'>"
	           "<body>just this</body></message>");
}

/* ---- refusals ---------------------------------------------------------------------------- */

static void test_refusals(struct gw *gw, gconstpointer unused)
{
	const struct {
		const char *from;
		const char *type;
		const char *condition;
		const char *error_type;
		const char *text;
	} cases[] = {
	    {ALICE_PC, "groupchat", "not-acceptable", "modify",
	     "group chats are not available through this transport yet"},
	    {"bob@example.org/pc", "chat", "registration-required", "auth", GW_NOT_REGISTERED},
	    {"eve@evil.org/pc", "chat", "forbidden", "auth",
	     GW_JID " serves users of " GW_DOMAIN " only"},
	};
	(void)gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		gw_injectf(gw,
		           "<message from='%s' to='" BOB "' type='%s' id='r%zu'>"
		           "<body>hi</body></message>",
		           cases[i].from, cases[i].type, i);
		g_autofree char *xml = g_strdup_printf(
		    "<message from='" BOB "' to='%s' id='r%zu' type='error'><error type='%s'>"
		    "<%s xmlns='" STANZA_NS_STANZAS "'/><text xmlns='" STANZA_NS_STANZAS
		    "'>%s</text></error></message>",
		    cases[i].from, i, cases[i].error_type, cases[i].condition, cases[i].text);
		expect_xml(gw, "message", "error", cases[i].from, xml);
		g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	}
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* A domain the server routes to the component that is not the
 * transport's (ejabberd with several hosts): item-not-found, nothing
 * relayed, whether it has a localpart or not. */
static void test_other_domain(struct gw *gw, gconstpointer unused)
{
	const char *tos[] = {"other.example.net", "bob@other.example.net", "other.example.net/x"};
	(void)gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(tos); i++) {
		gw_injectf(gw,
		           "<message from='" ALICE_PC "' to='%s' type='chat' id='o%zu'>"
		           "<body>hi</body></message>",
		           tos[i], i);
		struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
		g_assert_cmpstr(stanza_get_from(e), ==, tos[i]);
		g_assert_nonnull(stanza_find_child(stanza_find_child(e, "error", NULL),
		                                   "item-not-found", STANZA_NS_STANZAS));
		stanza_free(e);
	}
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* Message errors are never answered, whoever sends them (chat to the
 * transport itself: test_content). */
static void test_errors_unanswered(struct gw *gw, gconstpointer unused)
{
	const char *senders[] = {ALICE_PC, "bob@example.org/pc", "eve@evil.org/pc"};
	(void)gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(senders); i++) {
		gw_injectf(gw,
		           "<message from='%s' to='" BOB "' type='error'><body>x</body>"
		           "<error type='cancel'><item-not-found xmlns='" STANZA_NS_STANZAS
		           "'/></error></message>",
		           senders[i]);
		gw_injectf(gw, "<message from='%s' to='" GW_JID "' type='error'/>", senders[i]);
	}
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* A localpart whose name no contact JID would carry (escaping refuses a
 * leading space) still reaches the legacy side under that name: a parsed
 * localpart is never empty, so none "stands for no name" and the
 * jid-malformed answer of on_message() cannot be reached today. */
static void test_unaddressable_localpart(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	send_chat(gw, "\\20lead", "m1", "hi");
	guint32 seq = expect_im(gw, account, " lead", "hi");
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);
	/* its failure comes back from the transport (no JID for the name) */
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false,
	          .error = "No such nick");
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_from(e), ==, GW_JID);
	stanza_free(e);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
	ADD("/messages/send/online", test_send_online);
	ADD("/messages/send/failed", test_send_failed);
	ADD("/messages/chat-states/to-legacy", test_chat_states_to_legacy);
	ADD("/messages/chat-states/not-online", test_chat_states_not_online);
	ADD("/messages/chat-states/from-legacy", test_typing_from_legacy);
	ADD("/messages/outbox/while-connecting", test_outbox_while_connecting);
	ADD("/messages/outbox/item-failed", test_outbox_item_failed);
	ADD("/messages/outbox/while-reconnecting", test_outbox_while_reconnecting);
	ADD("/messages/drain/on-logout", test_drain_on_logout);
	ADD("/messages/drain/interrupted", test_drain_interrupted);
	ADD("/messages/drain/failure-told", test_drain_failure_told);
	ADD("/messages/drain/cut", test_drain_cut);
	ADD("/messages/fatal-loss-reports-progress", test_fatal_loss_reports_progress);
	ADD("/messages/drain/shutdown-while-leaving", test_shutdown_while_leaving);
	ADD("/messages/lines/no-recipient-and-too-long", test_no_recipient_and_too_long);
	ADD("/messages/lines/max-lines-passed", test_max_lines_passed);
	ADD("/messages/lines/slow-announced", test_slow_message_announced);
	ADD("/messages/lines/requeue-only-the-rest", test_requeue_only_the_rest);
	ADD("/messages/lines/disconnect-requeues-the-rest", test_disconnect_requeues_the_rest);
	ADD("/messages/lines/unregister-reports-first", test_unregister_reports_first);
	ADD("/messages/outbox/too-old", test_outbox_too_old);
	ADD("/messages/bounce/not-connected", test_bounce_not_connected);
	ADD("/messages/inflight/requeued-on-loss", test_inflight_requeued_on_loss);
	ADD("/messages/inflight/unstorable-bounced", test_inflight_unstorable_bounced);
	ADD("/messages/inflight/partly-acknowledged", test_inflight_partly_acknowledged);
	ADD("/messages/inflight/fatal-bounces-all", test_fatal_bounces_all);
	ADD("/messages/shutdown/acknowledged", test_shutdown_acknowledged);
	ADD("/messages/shutdown/unacknowledged", test_shutdown_unacknowledged);
	ADD("/messages/receive/plain", test_receive);
	ADD("/messages/receive/delayed", test_receive_delayed);
	ADD("/messages/receive/unaddressable", test_receive_unaddressable);
	ADD("/messages/notice", test_notice);
	ADD("/messages/refusals", test_refusals);
	ADD("/messages/other-domain", test_other_domain);
	ADD("/messages/errors-unanswered", test_errors_unanswered);
	ADD("/messages/unaddressable-localpart", test_unaddressable_localpart);
	return g_test_run();
}
