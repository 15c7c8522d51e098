/* Unit tests for the mapping of legacy names to contact JIDs
 * (src/gateway/address.c): one JID means exactly one legacy name. Ordinary
 * names keep their XEP-0106 form; a name the XMPP server's folding would
 * change (fullwidth letters, case where the protocol keeps it, bytes that
 * are not UTF-8) gets its folded form with a stable mark, kept across
 * restarts, told to the user, and read back when the user writes to it.
 * Directly on address.c, and through the transport on the fake legacy
 * side. */
#include "config.h"

#include <string.h>

#include "../../src/gateway/internal.h"
#include "gateway_fixture.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define FULLWIDTH_ALICE "\xef\xbd\x81lice" /* U+FF41 'ａ' then "lice" */

/* An address on the fixture's settings, storage and router. */
static struct address *address_on(struct gw *gw)
{
	return address_new(gw->settings, gw->storage, gw->router, "IRC");
}

static void assert_marked(const char *jid, const char *base)
{
	g_autofree char *pattern = g_strdup_printf("^%s~[0-9a-f]{8}@" GW_JID "$", base);
	if (!g_regex_match_simple(pattern, jid, 0, 0))
		g_error("'%s' is not a marked JID with base '%s'", jid, base);
}

/* The table: ordinary names map as they always did (no stored contact is
 * renamed), so the stored table stays empty for them. */
static void test_ordinary(struct gw *gw, gconstpointer unused)
{
	struct address *a = address_on(gw);
	static const struct {
		const char *name;
		const char *jid;
	} cases[] = {
	    {"alice", "alice@" GW_JID},
	    {"Alice", "Alice@" GW_JID}, /* IRC: ASCII case is the same nick */
	    {"bob[m]", "bob[m]@" GW_JID},
	    {"x|y^z_`{}-", "x|y^z_`{}-@" GW_JID},
	    {"john smith", "john\\20smith@" GW_JID},
	    {"ann@example.net", "ann\\40example.net@" GW_JID},
	    {"caf\xc3\xa9", "caf\xc3\xa9@" GW_JID}, /* é: NFKC and case leave it */
	    {"a~b", "a~b@" GW_JID},                 /* not a mark: too short */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *jid = address_contact_jid(a, cases[i].name);
		g_assert_cmpstr(jid, ==, cases[i].jid);
		g_autofree char *local = g_strndup(jid, strcspn(jid, "@"));
		g_autofree char *back = address_legacy_name(a, local);
		g_assert_cmpstr(back, ==, cases[i].name);
	}
	/* no localpart for these, as before */
	g_assert_null(address_contact_jid(a, ""));
	g_assert_null(address_contact_jid(a, " lead"));
	g_assert_null(address_contact_jid(a, "a\x1b[31mz"));
	address_free(a);
}

/* ａlice is not alice: the server would fold it to alice. */
static void test_fullwidth(struct gw *gw, gconstpointer unused)
{
	struct address *a = address_on(gw);
	g_autofree char *plain = address_contact_jid(a, "alice");
	g_autofree char *wide = address_contact_jid(a, FULLWIDTH_ALICE);
	g_assert_cmpstr(plain, ==, "alice@" GW_JID);
	g_assert_cmpstr(wide, !=, plain);
	assert_marked(wide, "alice");
	/* the same each time, and back to the exact name */
	g_autofree char *again = address_contact_jid(a, FULLWIDTH_ALICE);
	g_assert_cmpstr(again, ==, wide);
	g_autofree char *local = g_strndup(wide, strcspn(wide, "@"));
	g_autofree char *back = address_legacy_name(a, local);
	g_assert_cmpstr(back, ==, FULLWIDTH_ALICE);
	/* written in any case, as servers fold */
	g_autofree char *upper = g_ascii_strup(local, -1);
	g_autofree char *back2 = address_legacy_name(a, upper);
	g_assert_cmpstr(back2, ==, FULLWIDTH_ALICE);
	/* its unfolded plain form stands for nothing: it is not its address */
	g_assert_null(address_legacy_name(a, FULLWIDTH_ALICE));
	/* ligatures and non-ASCII case fold too: each gets its own address */
	g_autofree char *fi = address_contact_jid(a, "\xef\xac\x81sh"); /* U+FB01 ﬁ */
	assert_marked(fi, "fish");
	g_autofree char *sz = address_contact_jid(a, "\xc3\x84rger"); /* Ärger */
	assert_marked(sz, "\xc3\xa4rger");
	/* a mark of an unknown name stands for no name */
	g_assert_null(address_legacy_name(a, "bob~0123abcd"));
	address_free(a);
}

/* Two names that are not UTF-8 get two JIDs, each read back exactly. */
static void test_invalid_utf8(struct gw *gw, gconstpointer unused)
{
	struct address *a = address_on(gw);
	g_autofree char *j1 = address_contact_jid(a, "bad\xff");
	g_autofree char *j2 = address_contact_jid(a, "bad\xfe");
	g_assert_nonnull(j1);
	g_assert_nonnull(j2);
	g_assert_cmpstr(j1, !=, j2);
	g_assert_true(g_utf8_validate(j1, -1, NULL));
	g_autofree char *l1 = g_strndup(j1, strcspn(j1, "@"));
	g_autofree char *l2 = g_strndup(j2, strcspn(j2, "@"));
	g_autofree char *n1 = address_legacy_name(a, l1);
	g_autofree char *n2 = address_legacy_name(a, l2);
	g_assert_cmpstr(n1, ==, "bad\xff");
	g_assert_cmpstr(n2, ==, "bad\xfe");
	/* and neither is the JID of the valid spelling the bytes repair to */
	g_autofree char *repaired = address_contact_jid(a, "bad\xef\xbf\xbd");
	g_assert_cmpstr(repaired, !=, j1);
	g_assert_cmpstr(repaired, !=, j2);
	address_free(a);
}

/* A name ending like a mark cannot take another name's marked JID. */
static void test_mark_lookalike(struct gw *gw, gconstpointer unused)
{
	struct address *a = address_on(gw);
	g_autofree char *wide = address_contact_jid(a, FULLWIDTH_ALICE);
	g_autofree char *local = g_strndup(wide, strcspn(wide, "@"));
	g_autofree char *same = address_contact_jid(a, local);
	g_assert_cmpstr(same, !=, wide);
	assert_marked(same, local);
	address_free(a);
}

/* The mapping is the same after a restart: from storage, even when a
 * second name shares the first's base and digits (forced here by
 * storing the first's address under another name). */
static void test_stable(struct gw *gw, gconstpointer unused)
{
	struct address *a = address_on(gw);
	g_autofree char *wide = address_contact_jid(a, FULLWIDTH_ALICE);
	address_free(a);
	gw_restart(gw);
	a = address_on(gw);
	g_autofree char *again = address_contact_jid(a, FULLWIDTH_ALICE);
	g_assert_cmpstr(again, ==, wide);

	/* "ＢＯＢ" finds its 8-digit address held by another name: it takes
	 * 12 digits, and keeps them */
	const char *bob = "\xef\xbc\xa2\xef\xbc\xaf\xef\xbc\xa2";
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, bob, -1);
	g_autofree char *taken = g_strdup_printf("bob~%.8s", sum);
	g_autoptr(GError) err = NULL;
	g_assert_true(storage_address_put(gw->storage, taken, "someone else", &err));
	g_assert_no_error(err);
	g_autofree char *jid = address_contact_jid(a, bob);
	g_autofree char *expected = g_strdup_printf("bob~%.12s@" GW_JID, sum);
	g_assert_cmpstr(jid, ==, expected);
	address_free(a);
	gw_restart(gw);
	a = address_on(gw);
	g_autofree char *jid2 = address_contact_jid(a, bob);
	g_assert_cmpstr(jid2, ==, expected);
	g_autofree char *back = address_legacy_name(a, taken);
	g_assert_cmpstr(back, ==, "someone else");
	address_free(a);
}

/* Where case is part of the name, "Bob" and "bob" are two contacts. */
static void test_case_exact(struct gw *gw, gconstpointer unused)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *conf = g_strdup_printf("[component]\njid = " GW_JID "\nsecret = s\n"
	                                        "[legacy]\nprotocol = prpl-novell\n");
	struct settings *settings = settings_load_data(conf, "test.conf", &err);
	g_assert_no_error(err);
	struct address *a = address_new(settings, gw->storage, gw->router, "GroupWise");
	g_autofree char *lower = address_contact_jid(a, "bob");
	g_autofree char *upper = address_contact_jid(a, "Bob");
	g_assert_cmpstr(lower, ==, "bob@" GW_JID);
	assert_marked(upper, "bob");
	address_free(a);
	settings_free(settings);
}

/* Through the transport: a message from ａlice comes from its own JID,
 * the user is told once, and a reply reaches ａlice, not alice. */
static void test_transport(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "alice", .text = "real",
	          .when = 0);
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(m), ==, "alice@" GW_JID "/" GW_RESOURCE);
	stanza_free(m);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);

	FAKE_EMIT(gw->fake, im_received, .account = account, .name = FULLWIDTH_ALICE,
	          .text = "fake", .when = 0);
	struct stanza *notice = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(notice), ==, GW_JID);
	g_autofree char *body = stanza_get_child_text(notice, "body", NULL);
	g_assert_nonnull(strstr(body, "The IRC contact '" FULLWIDTH_ALICE "' is alice~"));
	g_assert_nonnull(strstr(body, "read its name as 'alice'"));
	stanza_free(notice);
	m = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *from = g_strdup(stanza_get_from(m));
	stanza_free(m);
	g_autofree char *bare = g_strndup(from, strcspn(from, "/"));
	/* what the XMPP server makes of it (nodeprep) is not alice's JID */
	g_autofree char *nfkc = g_utf8_normalize(bare, -1, G_NORMALIZE_NFKC);
	g_autofree char *folded = g_utf8_casefold(nfkc, -1);
	g_assert_cmpstr(folded, !=, "alice@" GW_JID);
	assert_marked(bare, "alice");
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);

	/* once: the next message comes without a notice */
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = FULLWIDTH_ALICE,
	          .text = "again", .when = 0);
	m = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(m), ==, from);
	stanza_free(m);
	g_assert_cmpuint(gw_sent_count(gw), ==, 0);

	/* the user's reply, to the JID in any case, goes to ａlice */
	g_autofree char *upper = g_ascii_strup(bare, strcspn(bare, "@"));
	gw_injectf(gw,
	           "<message from='" ALICE_PC "' to='%s@" GW_JID "' type='chat' id='r1'>"
	           "<body>who are you</body></message>",
	           upper);
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im im;
	g_assert_true(worker_msg_send_im_read(c->payload, c->account, &im));
	g_assert_cmpstr(im.name, ==, FULLWIDTH_ALICE);
	worker_msg_send_im_clear(&im);
	fake_command_free(c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
	ADD("/address/ordinary", test_ordinary);
	ADD("/address/fullwidth", test_fullwidth);
	ADD("/address/invalid-utf8", test_invalid_utf8);
	ADD("/address/mark-lookalike", test_mark_lookalike);
	ADD("/address/stable", test_stable);
	ADD("/address/case-exact", test_case_exact);
	ADD("/address/transport", test_transport);
	return g_test_run();
}
