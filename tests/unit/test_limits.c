/* Unit tests for the per-user bounds of contacts ([limits] in
 * src/gateway/contacts.c), through the fake legacy side: subscriptions
 * past max_contacts refused, contacts outside the roster bounded by
 * max_pending_probes (least recently used forgotten) and forgotten when
 * idle; buddies never. */
#include "config.h"

#include <string.h>

#include "gateway_fixture.h"
#include "ferry/disco.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define JOHN "john\\20smith@" GW_JID /* the contact JID of "john smith" */
#define BOB "bob@" GW_JID
#define FULL(jid) jid "/" GW_RESOURCE
#define CONTACT_VER "7Li1raYnBvJ/pcrs3bPQ9bIWQWw="
#define CAPS                                                                                       \
	"<c xmlns='" NS_CAPS "' hash='sha-1' node='" DISCO_CAPS_NODE "' ver='" CONTACT_VER "'/>"

/* Takes the oldest ADD_BUDDY, checks its account; frees it. */
static void take_add_buddy(struct gw *gw, guint32 account)
{
	struct fake_command *c = gw_take_command(gw, WORKER_ADD_BUDDY);
	g_assert_cmpuint(c->account, ==, account);
	fake_command_free(c);
}

static void buddy(struct gw *gw, guint32 account, const char *name)
{
	FAKE_EMIT(gw->fake, buddy_status, .account = account, .name = name, .alias = "",
	          .status = WORKER_STATUS_AVAILABLE, .message = "");
}

#define SMALL_LIMITS "[limits]\nmax_contacts = 2\nmax_pending_probes = 3\n"

/* Past max_contacts a subscription is refused with resource-constraint and
 * unsubscribed; nothing is stored or added on the legacy side. */
static void test_max_contacts(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw, "<presence from='" ALICE "' to='" BOB "' type='subscribe'/>");
	gw_inject(gw, "<presence from='" ALICE "' to='" JOHN "' type='subscribe'/>");
	GW_ASSERT_STORED(gw, "bob:2,john smith:2"); /* asked by the user: in the roster */
	take_add_buddy(gw, account);
	take_add_buddy(gw, account);
	gw_clear(gw);
	gw_inject(gw, "<presence from='" ALICE "' to='carl@" GW_JID "' type='subscribe' id='s3'/>");
	gw_expect_next(gw, "<presence from='carl@" GW_JID "' to='" ALICE "' id='s3' type='error'>"
	                   "<error type='wait'><resource-constraint xmlns='" STANZA_NS_STANZAS "'/>"
	                   "<text xmlns='" STANZA_NS_STANZAS "'>you have 2 contacts at " GW_JID
	                   ", the most "
	                   "it keeps for one user; remove one to add another</text></error>"
	                   "</presence>");
	gw_expect_next(gw, "<presence from='carl@" GW_JID "' to='" ALICE "' type='unsubscribed'/>");
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "bob:2,john smith:2");
	g_assert_cmpuint(fake_legacy_count(gw->fake), ==, 0);
	/* one removed: room for another */
	gw_inject(gw, "<presence from='" ALICE "' to='" BOB "' type='unsubscribe'/>");
	gw_inject(gw, "<presence from='" ALICE "' to='carl@" GW_JID "' type='subscribe'/>");
	GW_ASSERT_STORED(gw, "carl:2,john smith:2");
}

/* Probes to contacts outside the roster keep at most max_pending_probes
 * of them: the least recently used is forgotten (its next presence starts
 * anew with the bare JID's unavailable); buddies are never forgotten. */
static void test_probes_bounded(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	buddy(gw, account, "bob");
	gw_clear(gw);
	const char *const others[] = {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"};
	for (int round = 0; round < 2; round++)
		for (gsize i = 0; i < G_N_ELEMENTS(others); i++) {
			gw_injectf(
			    gw, "<presence from='" ALICE_PC "' to='%s@" GW_JID "' type='probe'/>",
			    others[i]);
			/* forgotten since the first round: starts anew */
			g_autofree char *clear = g_strdup_printf(
			    "<presence from='%s@" GW_JID "' to='" ALICE "' type='unavailable'/>",
			    others[i]);
			gw_expect_next(gw, clear);
			struct stanza *p = gw_expect(gw, "presence", "unavailable", ALICE_PC);
			stanza_free(p);
			gw_expect_nothing(gw);
		}
	/* the most recent one is still known: no new bare unavailable */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='c8@" GW_JID "' type='probe'/>");
	stanza_free(gw_expect(gw, "presence", "unavailable", ALICE_PC));
	/* the buddy was never forgotten */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" BOB "' type='probe'/>");
	gw_expect_next(gw, "<presence from='" FULL(BOB) "' to='" ALICE_PC "'>" CAPS "</presence>");
	gw_expect_nothing(gw);
	GW_ASSERT_STORED(gw, "bob:1");
}

/* A contact outside the roster unused for contact_idle_ms is forgotten
 * (its next presence starts anew); a buddy stays. */
static void test_idle_forgotten(struct gw *gw, gconstpointer unused)
{
	gw->settings->contact_idle_ms = 20;
	(void)gw_online(gw, "alice");
	for (int round = 0; round < 2; round++) {
		gw_inject(gw, "<presence from='" ALICE_PC "' to='c1@" GW_JID "' type='probe'/>");
		gw_expect_next(gw, "<presence from='c1@" GW_JID "' to='" ALICE
		                   "' type='unavailable'/>");
		stanza_free(gw_expect(gw, "presence", "unavailable", ALICE_PC));
		gw_run_for(200);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, SMALL_LIMITS, gw_test_setup, fn, gw_test_teardown)
	ADD("/limits/contacts/max-contacts", test_max_contacts);
	ADD("/limits/contacts/probes-bounded", test_probes_bounded);
	ADD("/limits/contacts/idle-forgotten", test_idle_forgotten);
	return g_test_run();
}
