/* Unit tests for content (src/gateway/content.c) and the dispatch that
 * answers users who are not registered (src/gateway/gateway.c), through
 * the fake legacy side: end-to-end encrypted messages refused and their
 * fallback body never sent, OTR relayed, reactions and retractions
 * refused, metadata dropped quietly, chat states relayed; chat to the
 * transport answered (bounded); presence, iq and MUC joins to contact JIDs
 * from unregistered users or foreign domains answered with an error. */
#include "config.h"

#include <string.h>

#include "gateway_fixture.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define BOB "bob@" GW_JID
#define STRANGER "bob@example.org/pc" /* a user of the allowed domain, not registered */
#define EVE "eve@evil.org/pc"         /* a user of another domain */

/* Takes the error of NAME to TO and asserts its id, condition, and that its
 * text contains PART. */
static void expect_error(struct gw *gw, const char *name, const char *to, const char *id,
                         const char *condition, const char *part)
{
	struct stanza *e = gw_expect(gw, name, "error", to);
	g_assert_cmpstr(stanza_get_id(e), ==, id);
	g_autofree char *text = test_error_text(e, condition);
	if (strstr(text, part) == NULL)
		g_error("error text '%s' does not contain '%s'", text, part);
	stanza_free(e);
}

/* ---- what crosses and what does not ---------------------------------------------------- */

static void test_encrypted_refused(struct gw *gw, gconstpointer unused)
{
	static const struct {
		const char *payload;
		const char *name;
	} cases[] = {
	    {"<encryption xmlns='urn:xmpp:eme:0' namespace='eu.siacs.conversations.axolotl'/>"
	     "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/></encrypted>",
	     "OMEMO"},
	    {"<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/></encrypted>",
	     "OMEMO"},
	    {"<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'/></encrypted>", "OMEMO"},
	    {"<openpgp xmlns='urn:xmpp:openpgp:0'>aGk=</openpgp>", "OpenPGP"},
	    {"<x xmlns='jabber:x:encrypted'>aGk=</x>", "OpenPGP (XEP-0027)"},
	    {"<encryption xmlns='urn:xmpp:eme:0' namespace='urn:example:new' name='NewCrypt'/>",
	     "NewCrypt"},
	    {"<encryption xmlns='urn:xmpp:eme:0' namespace='urn:example:unnamed'/>", "end-to-end"},
	};
	(void)gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		gw_injectf(gw,
		           "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='e%zu'>"
		           "<body>I sent you an encrypted message</body>%s</message>",
		           i, cases[i].payload);
		g_autofree char *id = g_strdup_printf("e%zu", i);
		g_autofree char *part = g_strdup_printf(
		    "end-to-end encrypted (%s), and that cannot cross to IRC", cases[i].name);
		expect_error(gw, "message", ALICE_PC, id, "not-acceptable", part);
		gw_expect_nothing(gw);
	}
	/* without a body too (OMEMO key transport) */
	gw_inject(gw,
	          "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='k'>"
	          "<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'/></encrypted></message>");
	expect_error(gw, "message", ALICE_PC, "k", "not-acceptable", "OMEMO");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* OTR is text in the body: it crosses byte for byte, marker or not. */
/* The IM text of the next SEND_IM, which goes to ACCOUNT (0: any). Caller
 * frees. */
static char *next_im_text(struct gw *gw, guint32 account)
{
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im m;
	g_assert_true(worker_msg_send_im_read(c->payload, c->account, &m));
	if (account != 0)
		g_assert_cmpuint(m.account, ==, account);
	char *text = g_strdup(m.text);
	worker_msg_send_im_clear(&m);
	fake_command_free(c);
	return text;
}

static void test_otr_passes(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw, "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='o1'>"
	              "<body>?OTR:AAMGAAAAAQ==.</body>"
	              "<encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:otr:0'/></message>");
	gw_inject(gw, "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='o2'>"
	              "<body>?OTRv23? alice would like a private conversation</body></message>");
	const char *texts[] = {"?OTR:AAMGAAAAAQ==.",
	                       "?OTRv23? alice would like a private conversation"};
	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autofree char *text = next_im_text(gw, account);
		g_assert_cmpstr(text, ==, texts[i]);
	}
	gw_expect_nothing(gw);
}

/* A correction goes as a new message marked as one; the user is told once
 * per contact. */
static void test_correction_marked(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	const char *to[] = {BOB, BOB "/ferry", "carol@" GW_JID};
	const bool told[] = {true, false, true};
	for (gsize i = 0; i < G_N_ELEMENTS(to); i++) {
		g_autofree char *xml = g_strdup_printf(
		    "<message from='" ALICE_PC
		    "' to='%s' type='chat' id='c%zu'><body>fixed %zu</body>"
		    "<replace xmlns='urn:xmpp:message-correct:0' id='x'/></message>",
		    to[i], i, i);
		gw_inject(gw, xml);
		g_autofree char *text = next_im_text(gw, 0);
		g_autofree char *want = g_strdup_printf("Correction: fixed %zu", i);
		g_assert_cmpstr(text, ==, want);
		if (told[i]) {
			struct stanza *note = gw_expect(gw, "message", "chat", ALICE);
			g_autofree char *body = stanza_get_child_text(note, "body", NULL);
			g_assert_nonnull(strstr(body, "new message"));
			stanza_free(note);
		}
		gw_expect_nothing(gw);
	}
	/* a plain message is sent as it is */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='p'>"
	              "<body>plain</body></message>");
	g_autofree char *plain = next_im_text(gw, 0);
	g_assert_cmpstr(plain, ==, "plain");
}

/* A reaction goes as text marked as one; the user is told once per contact. */
static void test_reaction_as_text(struct gw *gw, gconstpointer unused)
{
	(void)gw_online(gw, "alice");
	for (gsize i = 0; i < 2; i++) {
		gw_injectf(gw,
		           "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='r%zu'>"
		           "<reactions xmlns='urn:xmpp:reactions:0' id='m1'>"
		           "<reaction>\xF0\x9F\x91\x8D</reaction><reaction>:)</reaction>"
		           "</reactions><store xmlns='urn:xmpp:hints'/></message>",
		           i);
		g_autofree char *text = next_im_text(gw, 0);
		g_assert_cmpstr(text, ==, "Reacted: \xF0\x9F\x91\x8D :)");
		if (i == 0) {
			struct stanza *note = gw_expect(gw, "message", "chat", ALICE);
			g_autofree char *body = stanza_get_child_text(note, "body", NULL);
			g_assert_nonnull(strstr(body, "has no reactions"));
			stanza_free(note);
		}
		gw_expect_nothing(gw);
	}
}

static void test_uncarried_refused(struct gw *gw, gconstpointer unused)
{
	static const struct {
		const char *payload;
		const char *part;
	} cases[] = {
	    {"<reactions xmlns='urn:xmpp:reactions:0' id='m1'/>", "taking a reaction back"},
	    {"<reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction> </reaction></reactions>",
	     "taking a reaction back"},
	    {"<retract xmlns='urn:xmpp:message-retract:1' id='m1'/>", "a retraction"},
	    {"<subject>a subject alone</subject>",
	     "IRC carries text only: <subject/> cannot cross"},
	    {"<attention xmlns='urn:xmpp:attention:0'/>",
	     "<attention xmlns='urn:xmpp:attention:0'/> cannot cross"},
	};
	(void)gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		gw_injectf(gw,
		           "<message from='" ALICE_PC "' to='" BOB
		           "' type='chat' id='u%zu'>%s</message>",
		           i, cases[i].payload);
		g_autofree char *id = g_strdup_printf("u%zu", i);
		expect_error(gw, "message", ALICE_PC, id, "feature-not-implemented", cases[i].part);
	}
	/* A retraction's fallback body is not sent either (both versions). */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='r1'>"
	              "<body>This person attempted to retract a previous message</body>"
	              "<retract xmlns='urn:xmpp:message-retract:1' id='m1'/></message>");
	expect_error(gw, "message", ALICE_PC, "r1", "feature-not-implemented",
	             "IRC cannot take back a message already sent");
	gw_inject(gw, "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='r0'>"
	              "<body>retracted</body><apply-to xmlns='urn:xmpp:fasten:0' id='m1'>"
	              "<retract xmlns='urn:xmpp:message-retract:0'/></apply-to></message>");
	expect_error(gw, "message", ALICE_PC, "r0", "feature-not-implemented", "retraction");
	gw_expect_nothing(gw);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* Receipts, markers, hints and ids are the client's automatic metadata:
 * no answer, nothing sent. A chat state still becomes typing. */
static void test_metadata_quiet(struct gw *gw, gconstpointer unused)
{
	const char *payloads[] = {
	    "<received xmlns='urn:xmpp:receipts' id='m1'/>",
	    "<displayed xmlns='urn:xmpp:chat-markers:0' id='m1'/>",
	    "<received xmlns='urn:xmpp:chat-markers:0' id='m1'/><no-store xmlns='urn:xmpp:hints'/>",
	    "<origin-id xmlns='urn:xmpp:sid:0' id='x'/><thread>t1</thread>",
	    /* Gajim's mark on private messages through a room (typing too) */
	    "<x xmlns='http://jabber.org/protocol/muc#user'/>",
	};
	guint32 account = gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(payloads); i++)
		gw_injectf(gw,
		           "<message from='" ALICE_PC "' to='" BOB
		           "' type='chat' id='q%zu'>%s</message>",
		           i, payloads[i]);
	gw_expect_nothing(gw);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" BOB "' type='chat'>"
	              "<composing xmlns='" NS_CHATSTATES "'/><origin-id xmlns='urn:xmpp:sid:0' "
	              "id='y'/></message>");
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_TYPING);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
	/* a body with a receipt request and a marker goes as text */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" BOB "' type='chat' id='t'>"
	              "<body>hi</body><request xmlns='urn:xmpp:receipts'/>"
	              "<markable xmlns='urn:xmpp:chat-markers:0'/></message>");
	fake_command_free(gw_take_command(gw, WORKER_SEND_IM));
	gw_expect_nothing(gw);
}

/* ---- chat to the transport ----------------------------------------------------------- */

static char *body_of(struct stanza *m)
{
	char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_nonnull(body);
	return body;
}

static void test_transport_chat(struct gw *gw, gconstpointer unused)
{
	/* not registered: how to register */
	gw_inject(gw, "<message from='" STRANGER "' to='" GW_JID "' type='chat' id='h1'>"
	              "<body>hello?</body></message>");
	struct stanza *m = gw_expect(gw, "message", "chat", STRANGER);
	g_assert_cmpstr(stanza_get_from(m), ==, GW_JID);
	g_autofree char *b1 = body_of(m);
	g_assert_nonnull(strstr(b1, "You are not registered"));
	g_assert_nonnull(strstr(b1, "\"Register\" command on " GW_JID));
	stanza_free(m);
	/* once per few seconds, whatever the resource */
	gw_inject(gw, "<message from='bob@example.org/phone' to='" GW_JID "/x' type='chat'>"
	              "<body>hello again</body></message>");
	gw_expect_nothing(gw);
	/* registered: what to do, with an escaped example; type normal (no type) too */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" GW_JID "/x'><body>help</body></message>");
	m = gw_expect(gw, "message", "chat", ALICE_PC);
	g_autofree char *b2 = body_of(m);
	g_assert_nonnull(strstr(b2, "you are registered"));
	g_assert_nonnull(strstr(b2, "bob@" GW_JID " is the IRC user bob"));
	g_assert_nonnull(strstr(b2, "\"ann@example.net\" is ann\\40example.net@" GW_JID));
	stanza_free(m);
	/* never answered: errors, headlines, group chat, no text, servers */
	const char *quiet[] = {
	    "<message from='carol@example.org/pc' to='" GW_JID
	    "' type='error'><body>x</body></message>",
	    "<message from='carol@example.org/pc' to='" GW_JID "' type='headline'><body>x</body>"
	    "</message>",
	    "<message from='carol@example.org/pc' to='" GW_JID "' type='groupchat'><body>x</body>"
	    "</message>",
	    "<message from='carol@example.org/pc' to='" GW_JID
	    "' type='chat'><composing xmlns='" NS_CHATSTATES "'/></message>",
	    "<message from='carol@example.org/pc' to='" GW_JID
	    "' type='chat'><body>  </body></message>",
	    "<message from='" GW_DOMAIN "' to='" GW_JID "'><body>server notice</body></message>",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(quiet); i++)
		gw_inject(gw, quiet[i]);
	gw_expect_nothing(gw);
	/* another domain: refused */
	gw_inject(gw, "<message from='" EVE "' to='" GW_JID "' type='chat' id='e'><body>hi</body>"
	              "</message>");
	expect_error(gw, "message", EVE, "e", "forbidden", "serves users of " GW_DOMAIN " only");
	gw_expect_nothing(gw);
}

/* A flood of senders inside one window: answered up to the table's bound,
 * then not (the table does not grow past it). */
static void test_transport_chat_flood(struct gw *gw, gconstpointer unused)
{
	guint answered = 0;
	for (guint i = 0; i < 300; i++) {
		gw_injectf(gw,
		           "<message from='u%u@example.org/pc' to='" GW_JID "' type='chat'>"
		           "<body>hi</body></message>",
		           i);
		struct stanza *m;
		while ((m = gw_take(gw)) != NULL) {
			answered += g_strcmp0(stanza_name(m), "message") == 0;
			stanza_free(m);
		}
	}
	g_assert_cmpuint(answered, ==, 256);
}

/* ---- unregistered users and foreign domains at contact JIDs ----------------------------- */

static void test_unregistered_iq(struct gw *gw, gconstpointer unused)
{
	const char *payloads[] = {
	    "<vCard xmlns='vcard-temp'/>",
	    "<ping xmlns='" NS_PING "'/>",
	    "<query xmlns='" NS_DISCO_ITEMS "'/>",
	    "<query xmlns='" NS_VERSION "'/>",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(payloads); i++) {
		gw_injectf(gw,
		           "<iq from='" STRANGER "' to='" BOB "/res' type='get' id='i%zu'>%s</iq>",
		           i, payloads[i]);
		g_autofree char *id = g_strdup_printf("i%zu", i);
		expect_error(gw, "iq", STRANGER, id, "registration-required", GW_NOT_REGISTERED);
		gw_injectf(gw, "<iq from='" EVE "' to='" BOB "' type='get' id='f%zu'>%s</iq>", i,
		           payloads[i]);
		g_autofree char *fid = g_strdup_printf("f%zu", i);
		expect_error(gw, "iq", EVE, fid, "forbidden", "serves users of " GW_DOMAIN " only");
	}
	gw_inject(gw, "<iq from='" STRANGER "' to='" BOB "' type='set' id='s'><vCard "
	              "xmlns='vcard-temp'/></iq>");
	expect_error(gw, "iq", STRANGER, "s", "registration-required", "register");
	/* disco#info describes the address to anyone */
	gw_inject(gw, "<iq from='" STRANGER "' to='" BOB
	              "' type='get' id='d'><query xmlns='" NS_DISCO_INFO "'/></iq>");
	stanza_free(gw_expect(gw, "iq", "result", STRANGER));
	/* a registered user: what nobody handles is service-unavailable */
	gw_inject(gw, "<iq from='" ALICE_PC "' to='" BOB "' type='get' id='v'><vCard "
	              "xmlns='vcard-temp'/></iq>");
	struct stanza *e = gw_expect(gw, "iq", "error", ALICE_PC);
	g_assert_nonnull(stanza_find_child(stanza_find_child(e, "error", NULL),
	                                   "service-unavailable", STANZA_NS_STANZAS));
	stanza_free(e);
	/* the transport itself is not concerned */
	gw_inject(gw, "<iq from='" STRANGER "' to='" GW_JID
	              "' type='get' id='p'><ping xmlns='" NS_PING "'/></iq>");
	e = gw_expect(gw, "iq", "*", STRANGER);
	g_assert_null(stanza_find_child(stanza_find_child(e, "error", NULL),
	                                "registration-required", STANZA_NS_STANZAS));
	stanza_free(e);
	gw_expect_nothing(gw);
}

/* Errors answering strangers are rate-limited: twenty to one sender at
 * once, then one every 2 s; others are still answered; beyond a hundred at
 * once for all strangers, none. What goes unanswered is logged. */
static guint count_errors(struct gw *gw)
{
	guint n = 0;
	struct stanza *m;
	while ((m = gw_take(gw)) != NULL) {
		n += g_strcmp0(stanza_get_type(m), "error") == 0;
		stanza_free(m);
	}
	return n;
}

static void test_strangers_rate(struct gw *gw, gconstpointer unused)
{
	for (guint i = 0; i < 50; i++)
		gw_injectf(gw,
		           "<message from='" EVE "' to='" BOB "' id='m%u'><body>x</body></message>",
		           i);
	g_assert_cmpuint(count_errors(gw), ==, 20);
	for (guint i = 0; i < 50; i++)
		gw_injectf(gw, "<presence from='" STRANGER "' to='" BOB "' type='subscribe'/>");
	g_assert_cmpuint(count_errors(gw), ==, 20);
	gw_inject(gw, "<message from='mallory@evil.org/x' to='" BOB "' id='o'><body>x</body>"
	              "</message>");
	expect_error(gw, "message", "mallory@evil.org/x", "o", "forbidden", "serves users");
	/* many senders at once: bounded in all */
	for (guint i = 0; i < 300; i++)
		gw_injectf(
		    gw, "<message from='u%u@evil.org/x' to='" BOB "'><body>x</body></message>", i);
	guint all = count_errors(gw);
	/* 41 of the 100 went above; a few more came back meanwhile (20/s) */
	g_assert_cmpuint(all, >=, 100 - 41);
	g_assert_cmpuint(all, <=, 100 - 41 + 10);
}

static void test_muc_join(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<presence from='" STRANGER "' to='" BOB "/nick' id='j1'>"
	              "<x xmlns='" NS_MUC "'/></presence>");
	expect_error(gw, "presence", STRANGER, "j1", "registration-required", GW_NOT_REGISTERED);
	gw_inject(gw, "<presence from='" EVE "' to='" BOB "/nick' id='j2'><x xmlns='" NS_MUC "'/>"
	              "</presence>");
	expect_error(gw, "presence", EVE, "j2", "forbidden", "serves users of");
	(void)gw_online(gw, "alice");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" BOB "/nick' id='j3'>"
	              "<x xmlns='" NS_MUC "'/></presence>");
	expect_error(gw, "presence", ALICE_PC, "j3", "not-acceptable",
	             "bob is a contact, not a room");
	gw_expect_nothing(gw);
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
	ADD("/content/encrypted-refused", test_encrypted_refused);
	ADD("/content/otr-passes", test_otr_passes);
	ADD("/content/correction-marked", test_correction_marked);
	ADD("/content/reaction-as-text", test_reaction_as_text);
	ADD("/content/uncarried-refused", test_uncarried_refused);
	ADD("/content/metadata-quiet", test_metadata_quiet);
	ADD("/content/transport-chat", test_transport_chat);
	ADD("/content/transport-chat/flood", test_transport_chat_flood);
	ADD("/content/unregistered-iq", test_unregistered_iq);
	ADD("/content/muc-join", test_muc_join);
	ADD("/content/strangers-rate", test_strangers_rate);
	return g_test_run();
}
