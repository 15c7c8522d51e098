/* Unit tests for contacts (src/gateway/contacts.c), through the fake
 * legacy side: buddies as contacts (stored, asked for once, their
 * presence), contacts going offline with the session, buddies pushed to
 * the legacy side at sign-on, the user's subscriptions and probes, legacy
 * authorization requests, case-insensitive contact JIDs, and disco of
 * contact JIDs. XEP-0356 roster pushes are in test_roster.c. */
#include "config.h"

#include <string.h>

#include "gateway_fixture.h"
#include "ferry/disco.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define JOHN "john\\20smith@" GW_JID /* the contact JID of "john smith" */
#define BOB "bob@" GW_JID
#define NICK_NS " xmlns='" NS_NICK "'"
/* Contacts' presence comes from their full JIDs, available with the caps
 * of what every contact's full JID answers (one ver for all, pinned). */
#define FULL(jid) jid "/" GW_RESOURCE
#define CONTACT_VER "7Li1raYnBvJ/pcrs3bPQ9bIWQWw="
#define CAPS                                                                                       \
	"<c xmlns='" NS_CAPS "' hash='sha-1' node='" DISCO_CAPS_NODE "' ver='" CONTACT_VER "'/>"
/* The unavailable from a contact's bare JID before its first presence */
#define CLEAR(jid, to) "<presence from='" jid "' to='" to "' type='unavailable'/>"

/* Takes the oldest ADD_BUDDY, checks its account and alias; returns its name. */
static char *take_add_buddy(struct gw *gw, guint32 account, const char *alias)
{
	struct fake_command *c = gw_take_command(gw, WORKER_ADD_BUDDY);
	struct worker_msg_add_buddy m;
	g_assert_true(worker_msg_add_buddy_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.account, ==, account);
	g_assert_cmpstr(m.alias, ==, alias);
	char *name = g_strdup(m.name);
	worker_msg_add_buddy_clear(&m);
	fake_command_free(c);
	return name;
}

static void expect_remove_buddy(struct gw *gw, guint32 account, const char *name)
{
	struct fake_command *c = gw_take_command(gw, WORKER_REMOVE_BUDDY);
	struct worker_msg_remove_buddy m;
	g_assert_true(worker_msg_remove_buddy_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.account, ==, account);
	g_assert_cmpstr(m.name, ==, name);
	worker_msg_remove_buddy_clear(&m);
	fake_command_free(c);
}

static void expect_auth_reply(struct gw *gw, guint32 account, guint32 request, bool granted)
{
	struct fake_command *c = gw_take_command(gw, WORKER_AUTH_REPLY);
	struct worker_msg_auth_reply m;
	g_assert_true(worker_msg_auth_reply_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.account, ==, account);
	g_assert_cmpuint(m.request, ==, request);
	g_assert_cmpint(m.granted, ==, granted);
	worker_msg_auth_reply_clear(&m);
	fake_command_free(c);
}

static void buddy(struct gw *gw, guint32 account, const char *name, const char *alias,
                  guint32 status, const char *message)
{
	FAKE_EMIT(gw->fake, buddy_status, .account = account, .name = name, .alias = alias,
	          .status = status, .message = message);
}

/* ALICE's presence, the login and CONNECTED; what they cause is left to
 * be checked. Returns the account. */
static guint32 sign_on(struct gw *gw)
{
	gw_inject(gw, "<presence from='" FULL(ALICE_PC) "' to='" GW_JID "'>" CAPS "</presence>");
	struct fake_command *c = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = c->account;
	fake_command_free(c);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	return account;
}

/* ---- buddies ----------------------------------------------------------------------------- */

/* A new buddy is stored and asks once to be added, with its alias as the
 * nick; then its presence follows, and only when something changed. */
static void test_new_buddy(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "john smith", "John", WORKER_STATUS_AWAY, "lunch");
	GW_ASSERT_STORED(gw, "john smith:1"); /* STORAGE_CONTACT_SUBSCRIBE_SENT */
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='subscribe'>"
	                   "<nick" NICK_NS ">John</nick></presence>");
	gw_expect_next(gw, CLEAR(JOHN, ALICE));
	gw_expect_next(gw,
	               "<presence from='" FULL(JOHN) "' to='" ALICE "'><show>away</show>"
	                                             "<status>lunch</status>" CAPS "</presence>");
	gw_expect_nothing(gw);

	/* the same again: nothing */
	buddy(gw, account, "john smith", "John", WORKER_STATUS_AWAY, "lunch");
	gw_expect_nothing(gw);
	/* each change, never a second request */
	const struct {
		guint32 status;
		const char *message;
		const char *xml;
	} changes[] = {
	    {WORKER_STATUS_AWAY, "back soon",
	     "<presence from='" FULL(JOHN) "' to='" ALICE "'><show>away</show>"
	                                   "<status>back soon</status>" CAPS "</presence>"},
	    {WORKER_STATUS_XA, "back soon",
	     "<presence from='" FULL(JOHN) "' to='" ALICE "'><show>xa</show>"
	                                   "<status>back soon</status>" CAPS "</presence>"},
	    {WORKER_STATUS_DND, "",
	     "<presence from='" FULL(JOHN) "' to='" ALICE "'><show>dnd</show>" CAPS "</presence>"},
	    {WORKER_STATUS_AVAILABLE, "",
	     "<presence from='" FULL(JOHN) "' to='" ALICE "'>" CAPS "</presence>"},
	    {WORKER_STATUS_OFFLINE, "bye",
	     "<presence from='" FULL(JOHN) "' to='" ALICE "' type='unavailable'/>"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(changes); i++) {
		buddy(gw, account, "john smith", "", changes[i].status, changes[i].message);
		gw_expect_next(gw, changes[i].xml);
		gw_expect_nothing(gw);
	}
	GW_ASSERT_STORED(gw, "john smith:1");
}

/* Without an alias (or one equal to the name) the nick is the name. */
static void test_new_buddy_no_alias(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "", WORKER_STATUS_AVAILABLE, "");
	gw_expect_next(gw, "<presence from='" BOB "' to='" ALICE "' type='subscribe'>"
	                   "<nick" NICK_NS ">bob</nick></presence>");
	gw_expect_next(gw, CLEAR(BOB, ALICE));
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE "'>" CAPS "</presence>");
	buddy(gw, account, "carol", "carol", WORKER_STATUS_OFFLINE, "");
	gw_expect_next(gw, "<presence from='carol@" GW_JID "' to='" ALICE "' type='subscribe'>"
	                   "<nick" NICK_NS ">carol</nick></presence>");
	gw_expect_next(gw, CLEAR("carol@" GW_JID, ALICE));
	gw_expect_next(gw, "<presence from='carol@" GW_JID "/" GW_RESOURCE "' to='" ALICE
	                   "' type='unavailable'/>");
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "bob:1,carol:1");
}

/* A name no JID can carry is stored but asks nothing and shows nothing. */
static void test_unaddressable_buddy(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, " lead space", "", WORKER_STATUS_AVAILABLE, "");
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, " lead space:0");
}

/* The request is remembered in storage: a restarted transport does not
 * ask again, and pushes the stored buddies to the legacy side at sign-on. */
static void test_asked_once_across_runs(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "Bobby", WORKER_STATUS_AVAILABLE, "");
	buddy(gw, account, "john smith", "", WORKER_STATUS_AWAY, "");
	gw_restart(gw);
	account = sign_on(gw);
	/* in no particular order; aliases are not stored */
	g_autofree char *a = take_add_buddy(gw, account, "");
	g_autofree char *b = take_add_buddy(gw, account, "");
	g_assert_true((g_strcmp0(a, "bob") == 0 && g_strcmp0(b, "john smith") == 0) ||
	              (g_strcmp0(a, "john smith") == 0 && g_strcmp0(b, "bob") == 0));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ADD_BUDDY), ==, 0);
	gw_clear(gw);
	buddy(gw, account, "bob", "Bobby", WORKER_STATUS_AVAILABLE, "");
	gw_expect_next(gw, CLEAR(BOB, ALICE)); /* a new run */
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE "'>" CAPS "</presence>");
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "bob:1,john smith:1");
}

/* A reconnect pushes the buddies again, with the aliases known. */
static void test_pushed_after_reconnect(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "Bobby", WORKER_STATUS_AVAILABLE, "");
	fake_legacy_lose(gw->fake, account);
	account = gw_relogin(gw, "alice");
	g_autofree char *name = take_add_buddy(gw, account, "Bobby");
	g_assert_cmpstr(name, ==, "bob");
}

/* ---- the session ends: every contact goes offline ------------------------------------------ */

/* Brings bob online (available) and carol (offline), clearing what they sent. */
static guint32 two_buddies(struct gw *gw)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "", WORKER_STATUS_AWAY, "out");
	buddy(gw, account, "carol", "", WORKER_STATUS_OFFLINE, "");
	gw_clear(gw);
	return account;
}

#define BOB_OFFLINE "<presence from='" FULL(BOB) "' to='" ALICE "' type='unavailable'/>"

/* Takes the transport's own next presence, of TYPE. */
static void expect_transport(struct gw *gw, const char *type)
{
	struct stanza *p = gw_take(gw);
	g_assert_nonnull(p);
	g_assert_cmpstr(stanza_name(p), ==, "presence");
	/* errors answer the user's presence to the bare JID */
	g_assert_cmpstr(stanza_get_from(p), ==, g_strcmp0(type, "error") == 0 ? GW_JID : GW_FULL);
	g_assert_cmpstr(stanza_get_type(p), ==, type);
	stanza_free(p);
}

/* Bob goes unavailable (carol was already), then the transport. */
static void test_offline_on_logout(struct gw *gw, gconstpointer unused)
{
	(void)two_buddies(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_expect_next(gw, BOB_OFFLINE);
	expect_transport(gw, "unavailable");
	gw_expect_nothing(gw);
}

/* The same before the transport's "Reconnecting…"; back online, bob's
 * status is news again. */
static void test_offline_on_disconnect(struct gw *gw, gconstpointer unused)
{
	guint32 account = two_buddies(gw);
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "reset", .fatal = false);
	gw_expect_next(gw, BOB_OFFLINE);
	expect_transport(gw, NULL);
	gw_expect_nothing(gw);
	account = gw_relogin(gw, "alice");
	gw_clear(gw);
	buddy(gw, account, "bob", "", WORKER_STATUS_AWAY, "out");
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE "'><show>away</show>"
	                                                "<status>out</status>" CAPS "</presence>");
}

/* The same before the failure is reported. */
static void test_offline_on_fatal(struct gw *gw, gconstpointer unused)
{
	guint32 account = two_buddies(gw);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*login failed for good*");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_AUTH,
	          .text = "no", .fatal = true);
	g_test_assert_expected_messages();
	gw_expect_next(gw, BOB_OFFLINE);
	expect_transport(gw, "error");
	stanza_free(gw_expect(gw, "message", "chat", ALICE));
	/* a password refused: the new one is asked (status.c) */
	struct stanza *ask = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *body = stanza_get_child_text(ask, "body", NULL);
	g_assert_nonnull(strstr(body, "password"));
	stanza_free(ask);
	gw_expect_nothing(gw);
}

/* A lost worker is not the contacts' news: they keep their presence while
 * the session logs in again quietly. */
static void test_lost_worker_keeps_presence(struct gw *gw, gconstpointer unused)
{
	guint32 account = two_buddies(gw);
	fake_legacy_lose(gw->fake, account);
	expect_transport(gw, NULL); /* Reconnecting… */
	gw_expect_nothing(gw);
}

/* ---- the legacy side removes a buddy ---------------------------------------------------- */

static void test_buddy_removed(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "john smith", "", WORKER_STATUS_AVAILABLE, "");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, buddy_removed, .account = account, .name = "john smith");
	GW_ASSERT_STORED(gw, "");
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='unsubscribe'/>");
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='unsubscribed'/>");
	gw_expect_next(gw, "<presence from='" FULL(JOHN) "' to='" ALICE "' type='unavailable'/>");
	gw_expect_nothing(gw);
	/* again, or a name never seen: nothing */
	FAKE_EMIT(gw->fake, buddy_removed, .account = account, .name = "john smith");
	FAKE_EMIT(gw->fake, buddy_removed, .account = account, .name = "nobody");
	gw_expect_nothing(gw);
	/* back: a new buddy, asked again */
	buddy(gw, account, "john smith", "", WORKER_STATUS_AVAILABLE, "");
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='subscribe'>"
	                   "<nick" NICK_NS ">john smith</nick></presence>");
}

/* ---- the user's presence to contacts ------------------------------------------------------ */

static void test_user_subscribe(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw, "<presence from='" ALICE "' to='" JOHN "' type='subscribe'/>");
	GW_ASSERT_STORED(gw, "john smith:2"); /* the user asked: in the roster */
	g_autofree char *name = take_add_buddy(gw, account, "");
	g_assert_cmpstr(name, ==, "john smith");
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='subscribed'/>");
	gw_expect_next(gw, CLEAR(JOHN, ALICE));
	gw_expect_next(gw, "<presence from='" FULL(JOHN) "' to='" ALICE "' type='unavailable'/>");
	gw_expect_nothing(gw);
	/* its status arrives: presence, no request of its own */
	buddy(gw, account, "john smith", "", WORKER_STATUS_AVAILABLE, "hi");
	gw_expect_next(gw, "<presence from='" FULL(JOHN) "' to='" ALICE "'><status>hi</status>" CAPS
	                                                 "</presence>");
	gw_expect_nothing(gw);
	/* subscribing again adds again (harmless) and answers with the presence */
	gw_inject(gw, "<presence from='" ALICE "' to='" JOHN "' type='subscribe'/>");
	g_autofree char *again = take_add_buddy(gw, account, "");
	g_assert_cmpstr(again, ==, "john smith");
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='subscribed'/>");
	gw_expect_next(gw, "<presence from='" FULL(JOHN) "' to='" ALICE "'><status>hi</status>" CAPS
	                                                 "</presence>");
	gw_expect_nothing(gw);
}

/* Not signed on: stored, answered, and added at sign-on. */
static void test_user_subscribe_offline(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<presence from='" ALICE "' to='" BOB "' type='subscribe'/>");
	GW_ASSERT_STORED(gw, "bob:2"); /* the user asked: in the roster */
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	gw_expect_next(gw, "<presence from='" BOB "' to='" ALICE "' type='subscribed'/>");
	gw_expect_next(gw, CLEAR(BOB, ALICE));
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE "' type='unavailable'/>");
	guint32 account = sign_on(gw);
	g_autofree char *name = take_add_buddy(gw, account, "");
	g_assert_cmpstr(name, ==, "bob");
}

static void test_user_unsubscribe(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "john smith", "", WORKER_STATUS_AVAILABLE, "");
	gw_clear(gw);
	gw_inject(gw, "<presence from='" ALICE "' to='" JOHN "' type='unsubscribe'/>");
	expect_remove_buddy(gw, account, "john smith");
	GW_ASSERT_STORED(gw, "");
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='unsubscribed'/>");
	gw_expect_next(gw, "<presence from='" FULL(JOHN) "' to='" ALICE "' type='unavailable'/>");
	gw_expect_nothing(gw);
	/* not a buddy (any more): answered, nothing removed */
	gw_inject(gw, "<presence from='" ALICE "' to='" JOHN "' type='unsubscribe'/>");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='unsubscribed'/>");
	gw_expect_next(gw, "<presence from='" FULL(JOHN) "' to='" ALICE "' type='unavailable'/>");
	/* its flags went with it: listed again, it asks again */
	buddy(gw, account, "john smith", "", WORKER_STATUS_AVAILABLE, "");
	struct stanza *p = gw_expect(gw, "presence", "subscribe", ALICE);
	stanza_free(p);
}

/* A probe is answered with the contact's presence, to the prober. */
static void test_probe(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "", WORKER_STATUS_DND, "busy");
	gw_clear(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" BOB "' type='probe'/>");
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE_PC "'><show>dnd</show>"
	                                                "<status>busy</status>" CAPS "</presence>");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" JOHN "' type='probe'/>");
	gw_expect_next(gw, CLEAR(JOHN, ALICE)); /* john's first in this run: to all of alice */
	gw_expect_next(gw,
	               "<presence from='" FULL(JOHN) "' to='" ALICE_PC "' type='unavailable'/>");
	/* not signed on: everyone is unavailable */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_clear(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" BOB "' type='probe'/>");
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE_PC "' type='unavailable'/>");
	gw_expect_nothing(gw);
}

/* Unregistered users are told to register when they ask for something
 * (subscribe, probe, available, subscribed); leaving and error presence
 * are not answered; foreign domains are refused. */
static void test_presence_refusals(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw,
	          "<presence from='bob@example.org/pc' to='" JOHN "' type='subscribe' id='s1'/>");
	gw_expect_next(gw, "<presence from='" JOHN "' to='bob@example.org/pc' id='s1' type='error'>"
	                   "<error type='auth'><registration-required xmlns='" STANZA_NS_STANZAS
	                   "'/><text xmlns='" STANZA_NS_STANZAS "'>" GW_NOT_REGISTERED
	                   "</text></error></presence>");
	const char *asking[] = {" type='probe'", "", " type='subscribed'"};
	for (gsize i = 0; i < G_N_ELEMENTS(asking); i++) {
		gw_injectf(gw, "<presence from='bob@example.org/pc' to='" JOHN "'%s/>", asking[i]);
		struct stanza *e = gw_expect(gw, "presence", "error", "bob@example.org/pc");
		g_free(test_error_text(e, "registration-required"));
		stanza_free(e);
	}
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" JOHN "' type='unavailable'/>");
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" JOHN "' type='unsubscribe'/>");
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" JOHN "' type='unsubscribed'/>");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" JOHN "' type='error'/>");
	gw_inject(gw, "<presence from='eve@evil.org/pc' to='" JOHN "' type='error'/>");
	gw_expect_nothing(gw);
	gw_inject(gw, "<presence from='eve@evil.org/pc' to='" JOHN "' type='subscribe'/>");
	struct stanza *e = gw_expect(gw, "presence", "error", "eve@evil.org/pc");
	g_free(test_error_text(e, "forbidden"));
	stanza_free(e);
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
}

/* ---- authorization requests from the legacy side -------------------------------------------- */

static void test_auth_request(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, auth_request, .account = account, .request = 7, .name = "john smith",
	          .alias = "John", .message = "please add me");
	gw_expect_next(gw, "<presence from='" JOHN "' to='" ALICE "' type='subscribe'>"
	                   "<status>please add me</status><nick" NICK_NS ">John</nick></presence>");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	gw_inject(gw, "<presence from='" ALICE "' to='" JOHN "' type='subscribed'/>");
	expect_auth_reply(gw, account, 7, true);
	/* answered once */
	gw_inject(gw, "<presence from='" ALICE "' to='" JOHN "' type='subscribed'/>");
	gw_inject(gw, "<presence from='" ALICE "' to='" JOHN "' type='unsubscribed'/>");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);

	FAKE_EMIT(gw->fake, auth_request, .account = account, .request = 8, .name = "bob",
	          .alias = "", .message = "");
	gw_expect_next(gw, "<presence from='" BOB "' to='" ALICE "' type='subscribe'/>");
	gw_inject(gw, "<presence from='" ALICE "' to='" BOB "' type='unsubscribed'/>");
	expect_auth_reply(gw, account, 8, false);
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, ""); /* asking is not being a buddy */

	/* a name no JID can carry: refused at once */
	FAKE_EMIT(gw->fake, auth_request, .account = account, .request = 9, .name = " lead space",
	          .alias = "", .message = "hi");
	expect_auth_reply(gw, account, 9, false);
	gw_expect_nothing(gw);
}

/* ---- case-insensitive contact JIDs ------------------------------------------------------- */

/* Servers case-fold localparts: any spelling reaches the contact, which
 * keeps its legacy spelling on both sides. */
static void test_case_insensitive(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "alice1", "", WORKER_STATUS_AVAILABLE, "");
	buddy(gw, account, "BoB", "", WORKER_STATUS_AVAILABLE, "");
	gw_clear(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='ALICE1@" GW_JID "' type='chat'>"
	              "<body>hi</body></message>");
	gw_inject(gw, "<message from='" ALICE_PC "' to='bob@" GW_JID "' type='chat'>"
	              "<body>yo</body></message>");
	const char *names[] = {"alice1", "BoB"};
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
		struct worker_msg_send_im m;
		g_assert_true(worker_msg_send_im_read(c->payload, c->account, &m));
		g_assert_cmpstr(m.name, ==, names[i]);
		worker_msg_send_im_clear(&m);
		fake_command_free(c);
	}
	gw_inject(gw, "<presence from='" ALICE_PC "' to='Alice1@" GW_JID "/x' type='probe'/>");
	gw_expect_next(gw, "<presence from='alice1@" GW_JID "/" GW_RESOURCE "' to='" ALICE_PC
	                   "'>" CAPS "</presence>");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='BOB@" GW_JID "' type='probe'/>");
	gw_expect_next(gw, "<presence from='BoB@" GW_JID "/" GW_RESOURCE "' to='" ALICE_PC "'>" CAPS
	                   "</presence>");
	gw_inject(gw, "<presence from='" ALICE "' to='ALICE1@" GW_JID "' type='unsubscribe'/>");
	expect_remove_buddy(gw, account, "alice1");
	GW_ASSERT_STORED(gw, "BoB:1");
	/* an unknown spelling is taken as written */
	gw_inject(gw, "<message from='" ALICE_PC "' to='Carol@" GW_JID "' type='chat'>"
	              "<body>?</body></message>");
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im m;
	g_assert_true(worker_msg_send_im_read(c->payload, c->account, &m));
	g_assert_cmpstr(m.name, ==, "Carol");
	worker_msg_send_im_clear(&m);
	fake_command_free(c);
}

/* ---- disco of contact JIDs ---------------------------------------------------------------- */

#define INFO_RESULT(from, name)                                                                    \
	"<iq from='" from "' to='" ALICE_PC "' id='d1' type='result'><query xmlns='" NS_DISCO_INFO \
	"'><identity category='client' type='pc' name='" name "'/><feature var='" NS_CHATSTATES    \
	"'/><feature var='" NS_DISCO_INFO "'/></query></iq>"

#define FULL_INFO_RESULT(from, node)                                                               \
	"<iq from='" from "' to='" ALICE_PC "' id='d1' type='result'><query xmlns='" NS_DISCO_INFO \
	"'" node "><identity category='client' type='pc' name='IRC'/><feature var='" NS_CAPS       \
	"'/><feature var='" NS_CHATSTATES "'/><feature var='" NS_DISCO_INFO "'/></query></iq>"

static void disco(struct gw *gw, const char *from, const char *to, const char *ns, const char *node)
{
	g_autofree char *attr = node != NULL ? g_strdup_printf(" node='%s'", node) : g_strdup("");
	gw_injectf(gw, "<iq from='%s' to='%s' type='get' id='d1'><query xmlns='%s'%s/></iq>", from,
	           to, ns, attr);
}

static void test_disco(struct gw *gw, gconstpointer unused)
{
	/* no session is needed: a registered user not online */
	disco(gw, ALICE_PC, JOHN, NS_DISCO_INFO, NULL);
	gw_expect_next(gw, INFO_RESULT(JOHN, "john smith"));
	/* nor a registration: any user of an allowed domain is answered */
	disco(gw, "bob@example.org/pc", BOB, NS_DISCO_INFO, NULL);
	struct stanza *r = gw_expect(gw, "iq", "result", "bob@example.org/pc");
	g_assert_nonnull(stanza_find_child(r, "query", NS_DISCO_INFO));
	stanza_free(r);
	/* every contact's full JID answers the same, named by the protocol:
	 * what the caps in contacts' presence hash to (pinned as CONTACT_VER) */
	disco(gw, ALICE_PC, FULL(JOHN), NS_DISCO_INFO, NULL);
	gw_expect_next(gw, FULL_INFO_RESULT(FULL(JOHN), ""));
	/* a contact has no other resource */
	disco(gw, ALICE_PC, JOHN "/res", NS_DISCO_INFO, NULL);
	struct stanza *nr = gw_expect(gw, "iq", "error", ALICE_PC);
	g_free(test_error_text(nr, "item-not-found"));
	stanza_free(nr);
	disco(gw, ALICE_PC, FULL(JOHN), NS_DISCO_INFO, DISCO_CAPS_NODE "#" CONTACT_VER);
	gw_expect_next(gw,
	               FULL_INFO_RESULT(FULL(JOHN), " node='" DISCO_CAPS_NODE "#" CONTACT_VER "'"));
	/* the caps node of another ver does not exist */
	disco(gw, ALICE_PC, FULL(JOHN), NS_DISCO_INFO, DISCO_CAPS_NODE "#AAAA");
	struct stanza *nf = gw_expect(gw, "iq", "error", ALICE_PC);
	g_free(test_error_text(nf, "item-not-found"));
	stanza_free(nf);
	disco(gw, ALICE_PC, JOHN, NS_DISCO_ITEMS, NULL);
	gw_expect_next(gw, "<iq from='" JOHN "' to='" ALICE_PC "' id='d1' type='result'>"
	                   "<query xmlns='" NS_DISCO_ITEMS "'/></iq>");
	disco(gw, ALICE_PC, JOHN, NS_DISCO_INFO, "x");
	gw_expect_next(gw, "<iq from='" JOHN "' to='" ALICE_PC "' id='d1' type='error'>"
	                   "<error type='cancel'><item-not-found xmlns='" STANZA_NS_STANZAS "'/>"
	                   "<text xmlns='" STANZA_NS_STANZAS "'>no such node</text></error></iq>");
	disco(gw, ALICE_PC, JOHN, NS_DISCO_ITEMS, "x");
	gw_expect_next(gw, "<iq from='" JOHN "' to='" ALICE_PC "' id='d1' type='error'>"
	                   "<error type='cancel'><item-not-found xmlns='" STANZA_NS_STANZAS "'/>"
	                   "<text xmlns='" STANZA_NS_STANZAS "'>no such node</text></error></iq>");
	disco(gw, "eve@evil.org/pc", JOHN, NS_DISCO_INFO, NULL);
	gw_expect_next(gw, "<iq from='" JOHN "' to='eve@evil.org/pc' id='d1' type='error'>"
	                   "<error type='auth'><forbidden xmlns='" STANZA_NS_STANZAS "'/>"
	                   "<text xmlns='" STANZA_NS_STANZAS "'>" GW_JID
	                   " serves users of " GW_DOMAIN " only</text></error></iq>");
	disco(gw, "eve@evil.org/pc", JOHN, NS_DISCO_ITEMS, NULL);
	struct stanza *e = gw_expect(gw, "iq", "error", "eve@evil.org/pc");
	g_free(test_error_text(e, "forbidden"));
	stanza_free(e);
	gw_expect_nothing(gw);
}

/* A contact the user's session does not know is named by the localpart
 * unescaped. No localpart stands for no name (a parsed one is never
 * empty), so the item-not-found for one cannot be reached; one escaping
 * would refuse (a leading space) is answered as a name. */
static void test_disco_names(struct gw *gw, gconstpointer unused)
{
	disco(gw, ALICE_PC, "a\\40b\\2fc@" GW_JID, NS_DISCO_INFO, NULL);
	gw_expect_next(gw, INFO_RESULT("a\\40b\\2fc@" GW_JID, "a@b/c"));
	disco(gw, ALICE_PC, "\\20lead@" GW_JID, NS_DISCO_INFO, NULL);
	gw_expect_next(gw, INFO_RESULT("\\20lead@" GW_JID, " lead"));
}

/* A contact the session knows is named as the legacy network spells it,
 * though the server case-folds the localpart on the way (Prosody does). */
static void test_disco_known_spelling(struct gw *gw, gconstpointer unused)
{
	guint32 account = sign_on(gw);
	buddy(gw, account, "CamelNick", "", WORKER_STATUS_AVAILABLE, "");
	gw_clear(gw);
	disco(gw, ALICE_PC, "camelnick@" GW_JID, NS_DISCO_INFO, NULL);
	gw_expect_next(gw, INFO_RESULT("camelnick@" GW_JID, "CamelNick"));
	/* another user's session does not know it */
	disco(gw, "bob@example.org/pc", "camelnick@" GW_JID, NS_DISCO_INFO, NULL);
	gw_expect_next(gw,
	               "<iq from='camelnick@" GW_JID "' to='bob@example.org/pc' id='d1' "
	               "type='result'><query xmlns='" NS_DISCO_INFO "'><identity "
	               "category='client' type='pc' name='camelnick'/><feature var='" NS_CHATSTATES
	               "'/><feature var='" NS_DISCO_INFO "'/></query></iq>");
}

/* ---- away learned from an automatic reply ------------------------------------------------- */

#define BOB_AWAY(text)                                                                             \
	"<presence from='" FULL(BOB) "' to='" ALICE "'><show>away</show><status>" text             \
	                             "</status>" CAPS "</presence>"
#define BOB_AVAILABLE "<presence from='" FULL(BOB) "' to='" ALICE "'>" CAPS "</presence>"

/* An automatic reply (IRC's 301) is bob's presence, away with its text as
 * plain text, and no message; it lasts until bob stirs: a message (shown
 * after his presence is back), typing, or a new status. */
static void test_auto_reply_away(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "", WORKER_STATUS_AVAILABLE, "");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "bob",
	          .message = "gone &amp; fishing <b>now</b>");
	gw_expect_next(gw, BOB_AWAY("gone &amp; fishing now"));
	gw_expect_nothing(gw);
	/* the same reply to the next message: nothing new */
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "bob",
	          .message = "gone &amp; fishing <b>now</b>");
	gw_expect_nothing(gw);
	/* bob speaks: available, then his words */
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "bob", .text = "back",
	          .when = 0);
	gw_expect_next(gw, BOB_AVAILABLE);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(m), ==, FULL(BOB));
	stanza_free(m);
	gw_expect_nothing(gw);
	/* typing ends it too */
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "bob", .message = "afk");
	gw_expect_next(gw, BOB_AWAY("afk"));
	FAKE_EMIT(gw->fake, typing, .account = account, .name = "bob",
	          .state = WORKER_TYPING_ACTIVE);
	gw_expect_next(gw, BOB_AVAILABLE);
	stanza_free(gw_expect(gw, "message", "chat", ALICE));
	gw_expect_nothing(gw);
	/* a new status from the legacy side replaces it */
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "bob", .message = "afk");
	gw_expect_next(gw, BOB_AWAY("afk"));
	buddy(gw, account, "bob", "", WORKER_STATUS_DND, "");
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE "'><show>dnd</show>" CAPS
	                                                "</presence>");
	gw_expect_nothing(gw);
	/* the session ends: unavailable, and the away text is forgotten */
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "bob", .message = "afk");
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE "'><show>dnd</show>"
	                                                "<status>afk</status>" CAPS "</presence>");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE "' type='unavailable'/>");
}

/* Alice writes to bob, who shows away from an automatic reply.
 * Returns the message's seq. */
static guint32 write_bob(struct gw *gw, const char *text)
{
	gw_injectf(
	    gw, "<message from='" ALICE_PC "' to='" BOB "' type='chat'><body>%s</body></message>",
	    text);
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im m;
	g_assert_true(worker_msg_send_im_read(c->payload, c->account, &m));
	guint32 seq = m.seq;
	worker_msg_send_im_clear(&m);
	fake_command_free(c);
	return seq;
}

/* An away learned from an automatic reply ends without a word from bob:
 * a message to him goes through with no new automatic reply (the network
 * answers every message to an away user before the message is
 * confirmed), or fails because he is not on the network. */
static void test_auto_reply_away_ends(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "", WORKER_STATUS_AVAILABLE, "");
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "bob", .message = "afk");
	gw_clear(gw);
	/* still away: the reply comes again before the confirmation */
	guint32 seq = write_bob(gw, "one");
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "bob", .message = "afk");
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = seq);
	gw_expect_nothing(gw);
	/* back: confirmed with no reply */
	seq = write_bob(gw, "two");
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = seq);
	gw_expect_next(gw, BOB_AVAILABLE);
	gw_expect_nothing(gw);
	/* gone from the network: the away ends with the failure */
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "bob", .message = "afk");
	gw_expect_next(gw, BOB_AWAY("afk"));
	seq = write_bob(gw, "three");
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq, .sent = false,
	          .reason = WORKER_IM_NO_RECIPIENT, .error = "No such nick", .lines = 1);
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	stanza_free(e);
	gw_expect_next(gw, BOB_AVAILABLE);
	gw_expect_nothing(gw);
}

/* Someone not on the buddy list answers with an away text: presence
 * only (the 301 proves they are on the network), never a message. */
static void test_auto_reply_non_buddy(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, buddy_away, .account = account, .name = "john smith",
	          .message = "on holiday");
	gw_expect_next(gw, CLEAR(JOHN, ALICE));
	gw_expect_next(gw, "<presence from='" FULL(JOHN) "' to='" ALICE "'><show>away</show>"
	                                                 "<status>on holiday</status>" CAPS
	                                                 "</presence>");
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
	ADD("/contacts/buddy/new", test_new_buddy);
	ADD("/contacts/buddy/no-alias", test_new_buddy_no_alias);
	ADD("/contacts/buddy/unaddressable", test_unaddressable_buddy);
	ADD("/contacts/buddy/asked-once-across-runs", test_asked_once_across_runs);
	ADD("/contacts/buddy/pushed-after-reconnect", test_pushed_after_reconnect);
	ADD("/contacts/buddy/removed", test_buddy_removed);
	ADD("/contacts/offline/logout", test_offline_on_logout);
	ADD("/contacts/offline/disconnect", test_offline_on_disconnect);
	ADD("/contacts/offline/fatal", test_offline_on_fatal);
	ADD("/contacts/offline/lost-worker", test_lost_worker_keeps_presence);
	ADD("/contacts/away/auto-reply", test_auto_reply_away);
	ADD("/contacts/away/non-buddy", test_auto_reply_non_buddy);
	ADD("/contacts/away/ends", test_auto_reply_away_ends);
	ADD("/contacts/user/subscribe", test_user_subscribe);
	ADD("/contacts/user/subscribe-offline", test_user_subscribe_offline);
	ADD("/contacts/user/unsubscribe", test_user_unsubscribe);
	ADD("/contacts/user/probe", test_probe);
	ADD("/contacts/user/refusals", test_presence_refusals);
	ADD("/contacts/auth-request", test_auth_request);
	ADD("/contacts/case-insensitive", test_case_insensitive);
	ADD("/contacts/disco/contact", test_disco);
	ADD("/contacts/disco/known-spelling", test_disco_known_spelling);
	ADD("/contacts/disco/names", test_disco_names);
	return g_test_run();
}
