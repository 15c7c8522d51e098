/* disco: XEP-0030 info and items for the transport domain. */
#include "config.h"
#include "ferry/handlers.h"

#include <string.h>

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

struct identity {
	char *category;
	char *type;
	char *name;
};

struct disco {
	struct router *router;
	GArray *identities;  /* struct identity */
	GPtrArray *features; /* char *, sorted */
};

static void identity_clear(gpointer data)
{
	struct identity *id = data;
	g_free(id->category);
	g_free(id->type);
	g_free(id->name);
}

static enum router_result on_info(struct router *r, const struct stanza *s, void *data)
{
	struct disco *d = data;
	if (!router_to_transport(r, s) || g_strcmp0(stanza_get_type(s), "get") != 0)
		return ROUTER_PASS;
	const struct stanza *q = stanza_find_child(s, "query", NS_DISCO_INFO);
	if (q == NULL)
		return ROUTER_PASS;
	if (stanza_get_attr(q, "node") != NULL) {
		router_send_error(r, s, "item-not-found", "no such node");
		return ROUTER_HANDLED;
	}
	struct stanza *reply = stanza_new_reply(s, "result");
	struct stanza *rq = stanza_add_child(reply, "query", NS_DISCO_INFO);
	for (guint i = 0; i < d->identities->len; i++) {
		const struct identity *id = &g_array_index(d->identities, struct identity, i);
		struct stanza *e = stanza_add_child(rq, "identity", NULL);
		stanza_set_attr(e, "category", id->category);
		stanza_set_attr(e, "type", id->type);
		if (id->name != NULL)
			stanza_set_attr(e, "name", id->name);
	}
	for (guint i = 0; i < d->features->len; i++)
		stanza_set_attr(stanza_add_child(rq, "feature", NULL), "var",
		                g_ptr_array_index(d->features, i));
	router_send(r, reply);
	return ROUTER_HANDLED;
}

static enum router_result on_items(struct router *r, const struct stanza *s, void *data)
{
	if (!router_to_transport(r, s) || g_strcmp0(stanza_get_type(s), "get") != 0)
		return ROUTER_PASS;
	const struct stanza *q = stanza_find_child(s, "query", NS_DISCO_ITEMS);
	if (q == NULL)
		return ROUTER_PASS;
	if (stanza_get_attr(q, "node") != NULL) {
		router_send_error(r, s, "item-not-found", "no such node");
		return ROUTER_HANDLED;
	}
	struct stanza *reply = stanza_new_reply(s, "result");
	stanza_add_child(reply, "query", NS_DISCO_ITEMS);
	router_send(r, reply);
	return ROUTER_HANDLED;
}

struct disco *disco_new(struct router *router)
{
	struct disco *d = g_new0(struct disco, 1);
	d->router = router;
	d->identities = g_array_new(FALSE, TRUE, sizeof(struct identity));
	g_array_set_clear_func(d->identities, identity_clear);
	d->features = g_ptr_array_new_with_free_func(g_free);
	disco_add_feature(d, NS_DISCO_INFO);
	disco_add_feature(d, NS_DISCO_ITEMS);
	router_add_iq_handler(router, NS_DISCO_INFO, on_info, d);
	router_add_iq_handler(router, NS_DISCO_ITEMS, on_items, d);
	return d;
}

void disco_free(struct disco *d)
{
	if (d == NULL)
		return;
	g_array_unref(d->identities);
	g_ptr_array_unref(d->features);
	g_free(d);
}

void disco_add_identity(struct disco *d, const char *category, const char *type, const char *name)
{
	struct identity id = {g_strdup(category), g_strdup(type), g_strdup(name)};
	g_array_append_val(d->identities, id);
}

static gint compare_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void disco_add_feature(struct disco *d, const char *var)
{
	for (guint i = 0; i < d->features->len; i++)
		if (strcmp(g_ptr_array_index(d->features, i), var) == 0)
			return;
	g_ptr_array_add(d->features, g_strdup(var));
	g_ptr_array_sort(d->features, compare_str);
}

const GPtrArray *disco_features(const struct disco *d)
{
	return d->features;
}
