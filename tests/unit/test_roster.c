/* Unit tests for roster (src/gateway/roster.c), through the fake legacy
 * side: XEP-0356 grants from the server (:1 and :2, and what is not a
 * grant), privileged roster pushes of new buddies and their answers, the
 * fallback to one subscription request when a push fails, the in-roster
 * flag kept in storage, and removal by a push. */
#include "config.h"

#include <string.h>

#include "gateway_fixture.h"
#include "ferry/disco.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define BOB "bob@" GW_JID
#define CAROL "carol@" GW_JID
#define NICK_NS " xmlns='" NS_NICK "'"

/* Takes the next stanza, a roster push: checks it is XML once its id is
 * left out, and returns the id. Caller frees. */
/* The grant cases pass their case as the test data: not a configuration. */
static void setup(struct gw *gw, gconstpointer data)
{
	gw_test_setup(gw, NULL);
}

static char *expect_push(struct gw *gw, const char *xml)
{
	struct stanza *s = gw_take(gw);
	g_assert_nonnull(s);
	char *id = g_strdup(stanza_get_id(s));
	g_assert_nonnull(id);
	stanza_set_attr(s, "id", NULL);
	g_autofree char *got = stanza_to_string(s);
	stanza_free(s);
	g_assert_cmpstr(got, ==, xml);
	return id;
}

static void answer(struct gw *gw, const char *from, const char *id, const char *type)
{
	gw_injectf(gw, "<iq from='%s' to='" GW_JID "' id='%s' type='%s'/>", from, id, type);
}

static void grant(struct gw *gw, const char *from, const char *ns, const char *access,
                  const char *type)
{
	gw_injectf(gw,
	           "<message from='%s' to='" GW_JID "'><privilege xmlns='%s'>"
	           "<perm access='%s' type='%s'/></privilege></message>",
	           from, ns, access, type);
}

static void buddy(struct gw *gw, guint32 account, const char *name, const char *alias)
{
	FAKE_EMIT(gw->fake, buddy_status, .account = account, .name = name, .alias = alias,
	          .status = WORKER_STATUS_AVAILABLE, .message = "");
}

#define PUSH(jid, name)                                                                            \
	"<iq type='set' from='" GW_JID "' to='" ALICE "'><query xmlns='" NS_ROSTER "'>"            \
	"<item jid='" jid "' name='" name "' subscription='both'><group>IRC</group></item>"        \
	"</query></iq>"
#define PUSH_REMOVE(jid)                                                                           \
	"<iq type='set' from='" GW_JID "' to='" ALICE "'><query xmlns='" NS_ROSTER "'>"            \
	"<item jid='" jid "' subscription='remove'/></query></iq>"
#define SUBSCRIBE(jid, nick)                                                                       \
	"<presence from='" jid "' to='" ALICE "' type='subscribe'><nick" NICK_NS ">" nick          \
	"</nick></presence>"
/* Presence comes from the contacts' full JIDs (with caps when available);
 * the first in a run after one unavailable from the bare JID. */
#define AVAILABLE(jid)                                                                             \
	"<presence from='" jid "/" GW_RESOURCE "' to='" ALICE "'><c xmlns='" NS_CAPS               \
	"' hash='sha-1' node='" DISCO_CAPS_NODE                                                    \
	"' ver='7Li1raYnBvJ/pcrs3bPQ9bIWQWw='/></presence>"
#define UNAVAILABLE(jid)                                                                           \
	"<presence from='" jid "/" GW_RESOURCE "' to='" ALICE "' type='unavailable'/>"

static void expect_first(struct gw *gw, const char *jid)
{
	g_autofree char *clear =
	    g_strdup_printf("<presence from='%s' to='" ALICE "' type='unavailable'/>", jid);
	gw_expect_next(gw, clear);
	g_autofree char *available =
	    g_strdup_printf("<presence from='%s/" GW_RESOURCE "' to='" ALICE "'><c xmlns='" NS_CAPS
	                    "' hash='sha-1' node='" DISCO_CAPS_NODE
	                    "' ver='7Li1raYnBvJ/pcrs3bPQ9bIWQWw='/></presence>",
	                    jid);
	gw_expect_next(gw, available);
}

/* ---- pushes ----------------------------------------------------------------------------------- */

/* Granted: a new buddy is pushed (no request), its presence sent; the
 * user's server accepting it marks it in the roster, in storage too.
 * Its removal is a push of subscription='remove'. */
static void test_push_accepted(struct gw *gw, gconstpointer data)
{
	guint32 account = gw_online(gw, "alice");
	grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	gw_expect_nothing(gw);
	buddy(gw, account, "bob", "Bobby");
	g_autofree char *id = expect_push(gw, PUSH(BOB, "Bobby"));
	expect_first(gw, BOB);
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "bob:0");
	/* an answer from anyone else is not the answer */
	answer(gw, "bob@example.org", id, "result");
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "bob:0");
	answer(gw, ALICE, id, "result");
	GW_ASSERT_STORED(gw, "bob:2"); /* STORAGE_CONTACT_IN_ROSTER */
	gw_expect_next(gw, AVAILABLE(BOB));
	gw_expect_nothing(gw);
	/* still in the roster: never asked */
	buddy(gw, account, "bob", "Bobby");
	gw_expect_nothing(gw);

	FAKE_EMIT(gw->fake, buddy_removed, .account = account, .name = "bob");
	g_autofree char *rid = expect_push(gw, PUSH_REMOVE(BOB));
	gw_expect_next(gw, UNAVAILABLE(BOB));
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "");
	answer(gw, ALICE, rid, "result");
	gw_expect_nothing(gw);
}

/* A failed push: that contact asks once instead, and no contact is pushed
 * again, even after a new grant. */
static void test_push_failed(struct gw *gw, gconstpointer data)
{
	guint32 account = gw_online(gw, "alice");
	grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	buddy(gw, account, "bob", "");
	g_autofree char *id = expect_push(gw, PUSH(BOB, "bob"));
	expect_first(gw, BOB);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "roster: a privileged roster push to " ALICE " failed (error); *");
	answer(gw, ALICE, id, "error");
	g_test_assert_expected_messages();
	gw_expect_next(gw, SUBSCRIBE(BOB, "bob"));
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "bob:1");

	grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	buddy(gw, account, "carol", "Carol");
	gw_expect_next(gw, SUBSCRIBE(CAROL, "Carol"));
	expect_first(gw, CAROL);
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "bob:1,carol:1");
}

/* The in-roster flag outlives the run: no push, no request, presence only;
 * without a grant its removal falls back to presence. */
static void test_in_roster_across_runs(struct gw *gw, gconstpointer data)
{
	guint32 account = gw_online(gw, "alice");
	grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	buddy(gw, account, "bob", "");
	g_autofree char *id = expect_push(gw, PUSH(BOB, "bob"));
	answer(gw, ALICE, id, "result");
	GW_ASSERT_STORED(gw, "bob:2");
	gw_restart(gw);
	account = gw_online(gw, "alice");
	buddy(gw, account, "bob", "");
	expect_first(gw, BOB);
	gw_expect_nothing(gw);
	FAKE_EMIT(gw->fake, buddy_removed, .account = account, .name = "bob");
	gw_expect_next(gw, "<presence from='" BOB "' to='" ALICE "' type='unsubscribe'/>");
	gw_expect_next(gw, "<presence from='" BOB "' to='" ALICE "' type='unsubscribed'/>");
	gw_expect_next(gw, UNAVAILABLE(BOB));
	gw_expect_nothing(gw);
}

/* The answer to a push comes after the contact stopped being a buddy (the
 * legacy side removed it, or the user did): it neither brings the contact
 * back into storage nor sends anything for it. */
static void test_answer_after_removal(struct gw *gw, gconstpointer data)
{
	guint32 account = gw_online(gw, "alice");
	grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	buddy(gw, account, "bob", "");
	g_autofree char *id = expect_push(gw, PUSH(BOB, "bob"));
	expect_first(gw, BOB);
	/* not in the roster yet (no answer): removed as without pushes */
	FAKE_EMIT(gw->fake, buddy_removed, .account = account, .name = "bob");
	gw_expect_next(gw, "<presence from='" BOB "' to='" ALICE "' type='unsubscribe'/>");
	gw_expect_next(gw, "<presence from='" BOB "' to='" ALICE "' type='unsubscribed'/>");
	gw_expect_next(gw, UNAVAILABLE(BOB));
	answer(gw, ALICE, id, "result");
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "");

	/* the user unsubscribes while the push is out, and it fails */
	buddy(gw, account, "carol", "");
	g_autofree char *cid = expect_push(gw, PUSH(CAROL, "carol"));
	gw_inject(gw, "<presence from='" ALICE "' to='" CAROL "' type='unsubscribe'/>");
	gw_clear(gw);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*push to " ALICE " failed*");
	answer(gw, ALICE, cid, "error");
	g_test_assert_expected_messages();
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "");
}

/* ---- what is a grant ------------------------------------------------------------------------ */

struct grant_case {
	const char *from;
	const char *ns;
	const char *access;
	const char *type;
	bool push; /* the next new buddy is pushed */
};

static const struct grant_case grant_cases[] = {
    {GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both", true},
    {GW_DOMAIN, NS_PRIVILEGE_2, "roster", "set", true},
    {GW_DOMAIN, NS_PRIVILEGE_1, "roster", "both", true},
    {GW_DOMAIN, NS_PRIVILEGE_1, "roster", "set", true},
    {"EXAMPLE.org", NS_PRIVILEGE_2, "roster", "both", true},
    {GW_DOMAIN, NS_PRIVILEGE_2, "roster", "get", false},
    {GW_DOMAIN, NS_PRIVILEGE_2, "roster", "none", false},
    {GW_DOMAIN, NS_PRIVILEGE_2, "message", "outgoing", false},
    {GW_DOMAIN, "urn:xmpp:privilege:0", "roster", "both", false},
    {"admin@" GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both", false}, /* not a server */
    {"other.org", NS_PRIVILEGE_2, "roster", "both", false},        /* not the user's */
};

static void test_grant(struct gw *gw, gconstpointer data)
{
	const struct grant_case *c = data;
	guint32 account = gw_online(gw, "alice");
	grant(gw, c->from, c->ns, c->access, c->type);
	gw_expect_nothing(gw);
	buddy(gw, account, "bob", "");
	if (c->push) {
		g_free(expect_push(gw, PUSH(BOB, "bob")));
	} else {
		gw_expect_next(gw, SUBSCRIBE(BOB, "bob"));
	}
	expect_first(gw, BOB);
	gw_expect_nothing(gw);
}

/* A privilege message from a JID with a localpart is no server's: not
 * even taken as a withdrawal (only the server's own message is logged). */
static void test_grant_not_a_server(struct gw *gw, gconstpointer data)
{
	guint32 account = gw_online(gw, "alice");
	grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
	                      "roster: " GW_DOMAIN " grants roster access (" NS_PRIVILEGE_2 ")");
	grant(gw, "admin@" GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	grant(gw, "admin@" GW_DOMAIN, NS_PRIVILEGE_2, "message", "outgoing");
	grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	g_test_assert_expected_messages();
	buddy(gw, account, "bob", "");
	g_free(expect_push(gw, PUSH(BOB, "bob")));
}

/* A privilege message from a domain the transport does not serve is
 * ignored, logged: neither a grant nor a withdrawal. */
static void test_grant_foreign(struct gw *gw, gconstpointer data)
{
	guint32 account = gw_online(gw, "alice");
	grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
	                      "roster: ignoring a privilege message from other.org: not a domain "
	                      "this transport serves");
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
	                      "roster: ignoring a privilege message from " GW_DOMAIN "/x: *");
	grant(gw, "other.org", NS_PRIVILEGE_2, "roster", "both");
	grant(gw, GW_DOMAIN "/x", NS_PRIVILEGE_2, "message", "outgoing");
	g_test_assert_expected_messages();
	gw_expect_nothing(gw);
	buddy(gw, account, "bob", "");
	g_autofree char *id = expect_push(gw, PUSH(BOB, "bob"));
}

/* A later privilege message without roster access takes the grant back,
 * however the server spells its domain. */
static void test_grant_withdrawn(struct gw *gw, gconstpointer data)
{
	const char *spellings[] = {GW_DOMAIN, "Example.ORG"};
	guint32 account = gw_online(gw, "alice");
	for (gsize i = 0; i < G_N_ELEMENTS(spellings); i++) {
		grant(gw, GW_DOMAIN, NS_PRIVILEGE_2, "roster", "both");
		grant(gw, spellings[i], NS_PRIVILEGE_2, "message", "outgoing");
		g_autofree char *name = g_strdup_printf("b%zu", i);
		buddy(gw, account, name, "");
		struct stanza *s = gw_take(gw);
		g_assert_nonnull(s);
		g_test_message("withdrawn by %s", spellings[i]);
		g_assert_cmpstr(stanza_name(s), ==, "presence");
		g_assert_cmpstr(stanza_get_type(s), ==, "subscribe");
		stanza_free(s);
		gw_clear(gw);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn, data) g_test_add(path, struct gw, data, setup, fn, gw_test_teardown)
	ADD("/roster/push/accepted", test_push_accepted, NULL);
	ADD("/roster/push/failed", test_push_failed, NULL);
	ADD("/roster/push/in-roster-across-runs", test_in_roster_across_runs, NULL);
	ADD("/roster/push/answer-after-removal", test_answer_after_removal, NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(grant_cases); i++) {
		const struct grant_case *c = &grant_cases[i];
		g_autofree char *path =
		    g_strdup_printf("/roster/grant/%s/%s/%s-%s", c->from, strrchr(c->ns, ':') + 1,
		                    c->access, c->type);
		ADD(path, test_grant, c);
	}
	ADD("/roster/grant/withdrawn", test_grant_withdrawn, NULL);
	ADD("/roster/grant/not-a-server", test_grant_not_a_server, NULL);
	ADD("/roster/grant/foreign", test_grant_foreign, NULL);
	return g_test_run();
}
