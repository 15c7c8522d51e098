/* Unit tests for disco: the transport's own JID (bare and full) with its
 * identities, features and nodes, providers for other addresses asked in
 * order, and every kind of answer (result, item-not-found, a provider's own
 * error, nobody's address). */
#include "config.h"

#include <string.h>

#include "ferry/disco.h"
#include "ferry/ns.h"
#include "ferry/router.h"
#include "helpers.h"

#define JID "irc.example.org"

struct fixture {
	struct router *router;
	struct disco *disco;
	GQueue sent;      /* struct stanza * */
	GPtrArray *asked; /* "provider:to:node" of each provider call */
};

static void on_send(void *data, struct stanza *stanza)
{
	struct fixture *f = data;
	g_queue_push_tail(&f->sent, stanza);
}

static void setup(struct fixture *f, gconstpointer unused)
{
	g_queue_init(&f->sent);
	f->asked = g_ptr_array_new_with_free_func(g_free);
	f->router = router_new(JID, on_send, f);
	f->disco = disco_new(f->router);
	disco_add_identity(f->disco, "gateway", "irc", "IRC Transport");
	disco_add_feature(f->disco, "jabber:iq:register");
	disco_add_feature(f->disco, "jabber:iq:register"); /* duplicates are ignored */
}

static void teardown(struct fixture *f, gconstpointer unused)
{
	disco_free(f->disco);
	router_free(f->router);
	g_queue_clear_full(&f->sent, (GDestroyNotify)stanza_free);
	g_ptr_array_unref(f->asked);
}

/* Asks disco#info (ITEMS: #items) of TO at NODE (NULL: none) and returns
 * the one stanza sent back. */
static struct stanza *ask(struct fixture *f, bool items, const char *to, const char *node)
{
	g_autofree char *node_attr =
	    node != NULL ? g_strdup_printf(" node='%s'", node) : g_strdup("");
	g_autofree char *xml = g_strdup_printf(
	    "<iq type='get' id='d1' from='alice@example.org/pc' to='%s'><query xmlns='%s'%s/></iq>",
	    to, items ? NS_DISCO_ITEMS : NS_DISCO_INFO, node_attr);
	router_dispatch(f->router, test_parse_stanza(xml));
	g_assert_cmpuint(f->sent.length, ==, 1);
	struct stanza *reply = g_queue_pop_head(&f->sent);
	g_assert_cmpstr(stanza_get_id(reply), ==, "d1");
	g_assert_cmpstr(stanza_get_to(reply), ==, "alice@example.org/pc");
	return reply;
}

/* "category/type/name;..." then "|feature;..." of an info result. */
static char *summary(const struct stanza *reply)
{
	g_assert_cmpstr(stanza_get_type(reply), ==, "result");
	const struct stanza *q = stanza_find_child(reply, "query", NS_DISCO_INFO);
	g_assert_nonnull(q);
	GString *s = g_string_new(NULL);
	for (struct stanza *c = stanza_next_child(q, NULL); c != NULL; c = stanza_next_child(q, c))
		if (strcmp(stanza_name(c), "identity") == 0)
			g_string_append_printf(
			    s, "%s/%s/%s;", stanza_get_attr(c, "category"),
			    stanza_get_attr(c, "type"),
			    stanza_get_attr(c, "name") ? stanza_get_attr(c, "name") : "-");
	g_string_append_c(s, '|');
	for (struct stanza *c = stanza_next_child(q, NULL); c != NULL; c = stanza_next_child(q, c))
		if (strcmp(stanza_name(c), "feature") == 0)
			g_string_append_printf(s, "%s;", stanza_get_attr(c, "var"));
	return g_string_free(s, FALSE);
}

static void assert_error(const struct stanza *reply, const char *condition, const char *text)
{
	g_autofree char *got = test_error_text(reply, condition);
	if (text != NULL)
		g_assert_cmpstr(got, ==, text);
}

#define SELF                                                                                       \
	"gateway/irc/IRC Transport;|http://jabber.org/protocol/disco#info;"                        \
	"http://jabber.org/protocol/disco#items;jabber:iq:register;"

/* ---- the transport's own JID ------------------------------------------------------------- */

static void test_self(struct fixture *f, gconstpointer unused)
{
	const char *tos[] = {JID, "IRC.Example.org", JID "/any-resource"};
	for (gsize i = 0; i < G_N_ELEMENTS(tos); i++) {
		struct stanza *r = ask(f, false, tos[i], NULL);
		g_autofree char *s = summary(r);
		g_assert_cmpstr(s, ==, SELF);
		g_assert_null(stanza_get_attr(stanza_find_child(r, "query", NULL), "node"));
		stanza_free(r);
		r = ask(f, true, tos[i], NULL);
		g_assert_cmpstr(stanza_get_type(r), ==, "result");
		g_assert_cmpuint(stanza_child_count(stanza_find_child(r, "query", NS_DISCO_ITEMS)),
		                 ==, 0);
		stanza_free(r);
	}
	const GPtrArray *features = disco_features(f->disco);
	g_assert_cmpuint(features->len, ==, 3);
}

/* A node provider: info names the node; items lists two entries. */
static enum disco_answer node_info(void *data, const struct stanza *iq, const struct jid *to,
                                   const char *node, struct disco_info *info)
{
	disco_info_add_identity(info, "automation", "command-node", "Status");
	disco_info_add_feature(info, "jabber:x:data");
	disco_info_add_feature(info, "http://jabber.org/protocol/commands");
	disco_info_add_feature(info, "jabber:x:data");
	return DISCO_ANSWER;
}

static enum disco_answer node_items(void *data, const struct stanza *iq, const struct jid *to,
                                    const char *node, struct disco_items *items)
{
	disco_items_add(items, JID, "status", "Status");
	disco_items_add(items, JID, "relogin", NULL);
	return DISCO_ANSWER;
}

static const struct disco_provider node_provider = {.info = node_info, .items = node_items};

static void test_nodes(struct fixture *f, gconstpointer unused)
{
	disco_add_node(f->disco, "http://jabber.org/protocol/commands", &node_provider, NULL);
	struct stanza *r = ask(f, false, JID, "http://jabber.org/protocol/commands");
	g_autofree char *s = summary(r);
	g_assert_cmpstr(s, ==,
	                "automation/command-node/Status;|http://jabber.org/protocol/commands;"
	                "jabber:x:data;");
	/* the node is echoed */
	g_assert_cmpstr(stanza_get_attr(stanza_find_child(r, "query", NULL), "node"), ==,
	                "http://jabber.org/protocol/commands");
	stanza_free(r);
	r = ask(f, true, JID, "http://jabber.org/protocol/commands");
	g_autofree char *xml = stanza_to_string(stanza_find_child(r, "query", NULL));
	g_assert_cmpstr(xml, ==,
	                "<query xmlns='http://jabber.org/protocol/disco#items' "
	                "node='http://jabber.org/protocol/commands'>"
	                "<item jid='irc.example.org' node='status' name='Status'/>"
	                "<item jid='irc.example.org' node='relogin'/></query>");
	stanza_free(r);
	/* an unknown node */
	r = ask(f, false, JID, "nope");
	assert_error(r, "item-not-found", "no such node");
	stanza_free(r);
	r = ask(f, true, JID "/res", "nope");
	assert_error(r, "item-not-found", "no such node");
	stanza_free(r);
}

static void test_node_twice(void)
{
	if (g_test_subprocess()) {
		struct router *router = router_new(JID, NULL, NULL);
		struct disco *d = disco_new(router);
		disco_add_node(d, "n", &node_provider, NULL);
		disco_add_node(d, "n", &node_provider, NULL);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	g_test_trap_assert_stderr("*disco_add_node*");
}

/* ---- other addresses ------------------------------------------------------------------------ */

/* Provider "a" owns localpart "a*", answering; "b" owns "b*", refusing with
 * its own error, or not-found for "bx"; both record what they were asked. */
struct owner {
	struct fixture *f;
	char name;
};

static enum disco_answer owner_info(void *data, const struct stanza *iq, const struct jid *to,
                                    const char *node, struct disco_info *info)
{
	struct owner *o = data;
	g_ptr_array_add(o->f->asked, g_strdup_printf("%c:%s:%s", o->name, jid_full(to),
	                                             node != NULL ? node : "-"));
	const char *local = jid_local(to);
	if (local == NULL || local[0] != o->name)
		return DISCO_PASS;
	if (o->name == 'b' && strcmp(local, "bx") == 0)
		return DISCO_NOT_FOUND;
	if (o->name == 'b') {
		router_send_error(o->f->router, iq, "forbidden", "not for you");
		return DISCO_REFUSED;
	}
	disco_info_add_identity(info, "client", "pc", local);
	return DISCO_ANSWER;
}

static const struct disco_provider info_only = {.info = owner_info};

static void test_providers(struct fixture *f, gconstpointer unused)
{
	struct owner a = {f, 'a'}, b = {f, 'b'};
	disco_add_provider(f->disco, &info_only, &a);
	disco_add_provider(f->disco, &info_only, &b);

	struct stanza *r = ask(f, false, "alice@" JID "/pc", NULL);
	g_autofree char *s = summary(r);
	g_assert_cmpstr(s, ==, "client/pc/alice;|");
	stanza_free(r);
	g_assert_cmpuint(f->asked->len, ==, 1); /* "a" answered: "b" was not asked */

	r = ask(f, false, "bob@" JID, NULL);
	assert_error(r, "forbidden", "not for you");
	stanza_free(r);
	g_assert_cmpuint(f->asked->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(f->asked, 2), ==, "b:bob@" JID ":-");

	r = ask(f, false, "bx@" JID, "some-node");
	assert_error(r, "item-not-found", "no such node");
	stanza_free(r);
	r = ask(f, false, "bx@" JID, NULL);
	assert_error(r, "item-not-found", "no such entity");
	stanza_free(r);

	/* nobody's: the router's service-unavailable */
	r = ask(f, false, "carol@" JID, NULL);
	assert_error(r, "service-unavailable", NULL);
	stanza_free(r);
	/* a provider with no items callback is skipped for disco#items */
	r = ask(f, true, "alice@" JID, NULL);
	assert_error(r, "service-unavailable", NULL);
	stanza_free(r);
	/* providers are never asked about the transport itself */
	guint before = f->asked->len;
	r = ask(f, false, JID, NULL);
	stanza_free(r);
	g_assert_cmpuint(f->asked->len, ==, before);
}

/* Only gets with a query are disco's. */
static void test_not_disco(struct fixture *f, gconstpointer unused)
{
	router_dispatch(f->router,
	                test_parse_stanza("<iq type='set' id='d1' from='a@example.org/p' "
	                                  "to='" JID "'><query xmlns='" NS_DISCO_INFO "'/></iq>"));
	g_assert_cmpuint(f->sent.length, ==, 1);
	struct stanza *r = g_queue_pop_head(&f->sent);
	assert_error(r, "service-unavailable", NULL);
	stanza_free(r);
}

/* ---- XEP-0115 caps ---------------------------------------------------------------------- */

/* The ver of XEP-0115 §5.2's example, whatever order things were added in. */
static void test_caps_vector(void)
{
	struct disco_info *info = disco_info_new();
	disco_info_add_feature(info, "http://jabber.org/protocol/muc");
	disco_info_add_feature(info, "http://jabber.org/protocol/disco#items");
	disco_info_add_identity(info, "client", "pc", "Exodus 0.9.1");
	disco_info_add_feature(info, "http://jabber.org/protocol/caps");
	disco_info_add_feature(info, "http://jabber.org/protocol/disco#info");
	g_autofree char *ver = disco_info_caps_ver(info);
	g_assert_cmpstr(ver, ==, "QgayPKawpkPSDYmwT/WM94uAlu0=");
	disco_info_free(info);
	/* identities sort by category, type, then name */
	struct disco_info *a = disco_info_new(), *b = disco_info_new();
	disco_info_add_identity(a, "gateway", "irc", "x");
	disco_info_add_identity(a, "client", "pc", "y");
	disco_info_add_identity(b, "client", "pc", "y");
	disco_info_add_identity(b, "gateway", "irc", "x");
	g_autofree char *va = disco_info_caps_ver(a);
	g_autofree char *vb = disco_info_caps_ver(b);
	g_assert_cmpstr(va, ==, vb);
	disco_info_free(a);
	disco_info_free(b);

	struct stanza *p = stanza_new("presence");
	disco_add_caps(p, "abc=");
	g_autofree char *xml = stanza_to_string(p);
	g_assert_cmpstr(xml, ==,
	                "<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
	                "node='" DISCO_CAPS_NODE "' ver='abc='/></presence>");
	stanza_free(p);
}

/* node#ver of the transport (bare or full) is its plain disco#info when ver
 * is its hash (clients compare), item-not-found when not. */
static void test_caps_node(struct fixture *f, gconstpointer unused)
{
	const char *ver = disco_caps_ver(f->disco);
	g_autofree char *node = g_strdup_printf(DISCO_CAPS_NODE "#%s", ver);
	const char *tos[] = {JID, JID "/ferry"};
	for (gsize i = 0; i < G_N_ELEMENTS(tos); i++) {
		struct stanza *r = ask(f, false, tos[i], node);
		g_autofree char *s = summary(r);
		g_assert_cmpstr(s, ==, SELF);
		g_assert_cmpstr(stanza_get_attr(stanza_find_child(r, "query", NULL), "node"), ==,
		                node);
		stanza_free(r);
		r = ask(f, false, tos[i], DISCO_CAPS_NODE "#QgayPKawpkPSDYmwT/WM94uAlu0=");
		assert_error(r, "item-not-found", "no such node");
		stanza_free(r);
	}
	/* the hash of exactly what is answered */
	struct disco_info *info = disco_info_new();
	disco_info_add_identity(info, "gateway", "irc", "IRC Transport");
	disco_info_add_feature(info, NS_DISCO_INFO);
	disco_info_add_feature(info, NS_DISCO_ITEMS);
	disco_info_add_feature(info, "jabber:iq:register");
	g_autofree char *want = disco_info_caps_ver(info);
	disco_info_free(info);
	g_assert_cmpstr(ver, ==, want);
	/* the ver is kept, and follows a feature added later */
	g_assert_true(disco_caps_ver(f->disco) == ver);
	g_autofree char *before = g_strdup(ver);
	disco_add_feature(f->disco, "urn:example:later");
	g_assert_cmpstr(disco_caps_ver(f->disco), !=, before);
	/* the old ver's node is gone */
	g_autofree char *old_node = g_strdup_printf(DISCO_CAPS_NODE "#%s", before);
	struct stanza *r = ask(f, false, JID, old_node);
	assert_error(r, "item-not-found", "no such node");
	stanza_free(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/disco/self", test_self);
	ADD("/disco/nodes", test_nodes);
	g_test_add_func("/disco/node-twice", test_node_twice);
	ADD("/disco/providers", test_providers);
	ADD("/disco/not-disco", test_not_disco);
	g_test_add_func("/disco/caps/vector", test_caps_vector);
	ADD("/disco/caps/node", test_caps_node);
	return g_test_run();
}
