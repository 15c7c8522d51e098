/* disco: XEP-0030 info and items for every address at the transport: its
 * own JID with its nodes, and the providers modules register for theirs.
 * See include/ferry/disco.h. */
#include "config.h"
#include "ferry/disco.h"

#include <string.h>

#include "ferry/ns.h"

struct identity {
	char *category;
	char *type;
	char *name;
};

struct disco_info {
	GArray *identities;  /* struct identity */
	GPtrArray *features; /* char *, sorted, unique */
	GPtrArray *forms;    /* struct stanza *: XEP-0128 extensions, or NULL */
};

struct item {
	char *jid;
	char *node;
	char *name;
};

struct disco_items {
	GArray *items; /* struct item */
};

struct provider {
	const struct disco_provider *ops;
	void *data;
};

struct disco {
	struct router *router;
	struct disco_info self;     /* the transport's identities and features */
	char *self_ver;             /* its XEP-0115 ver, computed when first asked; NULL: not yet */
	GHashTable *nodes;          /* node -> struct provider * of the transport */
	GArray *providers;          /* struct provider, for other addresses */
	struct provider self_items; /* the transport's own disco#items (ops NULL: none) */
};

static void identity_clear(gpointer data)
{
	struct identity *id = data;
	g_free(id->category);
	g_free(id->type);
	g_free(id->name);
}

static void item_clear(gpointer data)
{
	struct item *it = data;
	g_free(it->jid);
	g_free(it->node);
	g_free(it->name);
}

static void info_init(struct disco_info *info)
{
	info->identities = g_array_new(FALSE, TRUE, sizeof(struct identity));
	g_array_set_clear_func(info->identities, identity_clear);
	info->features = g_ptr_array_new_with_free_func(g_free);
	info->forms = NULL;
}

static void info_clear(struct disco_info *info)
{
	g_clear_pointer(&info->identities, g_array_unref);
	g_clear_pointer(&info->features, g_ptr_array_unref);
	g_clear_pointer(&info->forms, g_ptr_array_unref);
}

void disco_info_add_form(struct disco_info *info, struct stanza *form)
{
	if (info->forms == NULL)
		info->forms = g_ptr_array_new_with_free_func((GDestroyNotify)stanza_free);
	g_ptr_array_add(info->forms, form);
}

void disco_info_add_identity(struct disco_info *info, const char *category, const char *type,
                             const char *name)
{
	struct identity id = {g_strdup(category), g_strdup(type), g_strdup(name)};
	g_array_append_val(info->identities, id);
}

static gint compare_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void disco_info_add_feature(struct disco_info *info, const char *var)
{
	for (guint i = 0; i < info->features->len; i++)
		if (strcmp(g_ptr_array_index(info->features, i), var) == 0)
			return;
	g_ptr_array_add(info->features, g_strdup(var));
	g_ptr_array_sort(info->features, compare_str);
}

struct disco_info *disco_info_new(void)
{
	struct disco_info *info = g_new0(struct disco_info, 1);
	info_init(info);
	return info;
}

void disco_info_free(struct disco_info *info)
{
	if (info == NULL)
		return;
	info_clear(info);
	g_free(info);
}

/* XEP-0115 §5.1 orders identities by category, type and xml:lang (ferry
 * sends none), then by name so that the string is one for one set. */
static gint compare_identity(gconstpointer a, gconstpointer b)
{
	const struct identity *x = *(const struct identity *const *)a;
	const struct identity *y = *(const struct identity *const *)b;
	int c = strcmp(x->category, y->category);
	if (c == 0)
		c = strcmp(x->type, y->type);
	if (c == 0)
		c = g_strcmp0(x->name, y->name);
	return c;
}

char *disco_info_caps_ver(const struct disco_info *info)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	for (guint i = 0; i < info->identities->len; i++)
		g_ptr_array_add(ids, &g_array_index(info->identities, struct identity, i));
	g_ptr_array_sort(ids, compare_identity);
	g_autoptr(GString) s = g_string_new(NULL);
	for (guint i = 0; i < ids->len; i++) {
		const struct identity *id = g_ptr_array_index(ids, i);
		g_string_append_printf(s, "%s/%s//%s<", id->category, id->type,
		                       id->name != NULL ? id->name : "");
	}
	/* features are kept sorted (octet order, as §5.1 asks) */
	for (guint i = 0; i < info->features->len; i++)
		g_string_append_printf(s, "%s<",
		                       (const char *)g_ptr_array_index(info->features, i));
	g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(sha1, (const guchar *)s->str, s->len);
	guint8 digest[20];
	gsize len = sizeof digest;
	g_checksum_get_digest(sha1, digest, &len);
	return g_base64_encode(digest, len);
}

void disco_add_caps(struct stanza *presence, const char *ver)
{
	struct stanza *c = stanza_add_child(presence, "c", NS_CAPS);
	stanza_set_attr(c, "hash", "sha-1");
	stanza_set_attr(c, "node", DISCO_CAPS_NODE);
	stanza_set_attr(c, "ver", ver);
}

void disco_items_add(struct disco_items *items, const char *jid, const char *node, const char *name)
{
	struct item it = {g_strdup(jid), g_strdup(node), g_strdup(name)};
	g_array_append_val(items->items, it);
}

/* ---- answering ------------------------------------------------------------------ */

/* The result skeleton for request IQ: its query, echoing the node. */
static struct stanza *reply_query(const struct stanza *iq, const char *ns, const char *node,
                                  struct stanza **reply)
{
	*reply = stanza_new_reply(iq, "result");
	struct stanza *q = stanza_add_child(*reply, "query", ns);
	if (node != NULL)
		stanza_set_attr(q, "node", node);
	return q;
}

static void send_info(struct router *r, const struct stanza *iq, const char *node,
                      const struct disco_info *info)
{
	struct stanza *reply;
	struct stanza *q = reply_query(iq, NS_DISCO_INFO, node, &reply);
	for (guint i = 0; i < info->identities->len; i++) {
		const struct identity *id = &g_array_index(info->identities, struct identity, i);
		struct stanza *e = stanza_add_child(q, "identity", NULL);
		stanza_set_attr(e, "category", id->category);
		stanza_set_attr(e, "type", id->type);
		if (id->name != NULL)
			stanza_set_attr(e, "name", id->name);
	}
	for (guint i = 0; i < info->features->len; i++)
		stanza_set_attr(stanza_add_child(q, "feature", NULL), "var",
		                g_ptr_array_index(info->features, i));
	for (guint i = 0; info->forms != NULL && i < info->forms->len; i++)
		stanza_add_child_take(q, stanza_copy(g_ptr_array_index(info->forms, i)));
	router_send(r, reply);
}

static void send_items(struct router *r, const struct stanza *iq, const char *node,
                       const struct disco_items *items)
{
	struct stanza *reply;
	struct stanza *q = reply_query(iq, NS_DISCO_ITEMS, node, &reply);
	for (guint i = 0; i < items->items->len; i++) {
		const struct item *it = &g_array_index(items->items, struct item, i);
		struct stanza *e = stanza_add_child(q, "item", NULL);
		stanza_set_attr(e, "jid", it->jid);
		if (it->node != NULL)
			stanza_set_attr(e, "node", it->node);
		if (it->name != NULL)
			stanza_set_attr(e, "name", it->name);
	}
	router_send(r, reply);
}

/* The request's query in NS and its addressee, when IQ is a get that disco
 * answers; NULL otherwise. Caller frees the JID. */
static struct jid *request_target(const struct stanza *iq, const char *ns, const char **node)
{
	if (g_strcmp0(stanza_get_type(iq), "get") != 0)
		return NULL;
	const struct stanza *q = stanza_find_child(iq, "query", ns);
	const char *to = stanza_get_to(iq);
	if (q == NULL || to == NULL)
		return NULL;
	*node = stanza_get_attr(q, "node");
	return jid_parse(to, NULL);
}

/* true when TO is the transport's own JID, bare or full: disco answers it
 * (and its nodes); other addresses go to the providers. */
static bool to_self(const struct disco *d, const struct jid *to)
{
	return jid_local(to) == NULL &&
	       g_ascii_strcasecmp(jid_domain(to), router_jid(d->router)) == 0;
}

enum kind { INFO, ITEMS };

/* Asks the N providers at P in turn for IQ's answer: the first that is
 * not DISCO_PASS gives it. */
static enum disco_answer ask(const struct provider *p, guint n, enum kind kind,
                             const struct stanza *iq, const struct jid *to, const char *node,
                             struct disco_info *info, struct disco_items *items)
{
	for (guint i = 0; i < n; i++) {
		enum disco_answer a = DISCO_PASS;
		if (kind == INFO && p[i].ops->info != NULL)
			a = p[i].ops->info(p[i].data, iq, to, node, info);
		else if (kind == ITEMS && p[i].ops->items != NULL)
			a = p[i].ops->items(p[i].data, iq, to, node, items);
		if (a != DISCO_PASS)
			return a;
	}
	return DISCO_PASS;
}

/* NODE's provider: its own, else that of its prefix up to the first '/'
 * ("prompt/" answers "prompt/7"), else NULL. */
static const struct provider *find_node(const struct disco *d, const char *node)
{
	const struct provider *p = g_hash_table_lookup(d->nodes, node);
	const char *slash = strchr(node, '/');
	if (p == NULL && slash != NULL && slash[1] != '\0') {
		g_autofree char *prefix = g_strndup(node, (gsize)(slash - node) + 1);
		p = g_hash_table_lookup(d->nodes, prefix);
	}
	return p;
}

static enum router_result answer(struct router *r, const struct stanza *iq, struct disco *d,
                                 enum kind kind)
{
	const char *node = NULL;
	struct jid *to = request_target(iq, kind == INFO ? NS_DISCO_INFO : NS_DISCO_ITEMS, &node);
	if (to == NULL)
		return ROUTER_PASS;
	struct disco_info info;
	struct disco_items items = {g_array_new(FALSE, TRUE, sizeof(struct item))};
	g_array_set_clear_func(items.items, item_clear);
	info_init(&info);
	/* DISCO_CAPS_NODE#VER is the plain disco#info, if VER is its hash */
	const char *caps_ver = NULL;
	if (kind == INFO && node != NULL && g_str_has_prefix(node, DISCO_CAPS_NODE "#"))
		caps_ver = node + strlen(DISCO_CAPS_NODE "#");
	const char *asked = caps_ver != NULL ? NULL : node;
	enum disco_answer a;
	const struct disco_info *answered = &info;
	if (to_self(d, to) && asked == NULL && kind == ITEMS && d->self_items.ops != NULL) {
		a = ask(&d->self_items, 1, kind, iq, to, NULL, &info, &items);
		if (a == DISCO_PASS)
			a = DISCO_ANSWER;
	} else if (to_self(d, to) && asked == NULL) {
		a = DISCO_ANSWER;
		answered = &d->self; /* sent as it is, no copy */
	} else if (to_self(d, to)) {
		const struct provider *p = find_node(d, node);
		a = p != NULL ? ask(p, 1, kind, iq, to, node, &info, &items) : DISCO_NOT_FOUND;
		if (a == DISCO_PASS)
			a = DISCO_NOT_FOUND;
	} else {
		a = ask((const struct provider *)d->providers->data, d->providers->len, kind, iq,
		        to, asked, &info, &items);
	}
	if (a == DISCO_ANSWER && caps_ver != NULL) {
		g_autofree char *ver = answered == &d->self ? g_strdup(disco_caps_ver(d))
		                                            : disco_info_caps_ver(answered);
		if (strcmp(ver, caps_ver) != 0)
			a = DISCO_NOT_FOUND;
	}
	switch (a) {
	case DISCO_ANSWER:
		if (kind == INFO)
			send_info(r, iq, node, answered);
		else
			send_items(r, iq, node, &items);
		break;
	case DISCO_NOT_FOUND:
		router_send_error(r, iq, "item-not-found",
		                  node != NULL ? "no such node" : "no such entity");
		break;
	default:
		break;
	}
	info_clear(&info);
	g_array_unref(items.items);
	jid_free(to);
	return a == DISCO_PASS ? ROUTER_PASS : ROUTER_HANDLED;
}

static enum router_result on_info(struct router *r, const struct stanza *iq, void *data)
{
	return answer(r, iq, data, INFO);
}

static enum router_result on_items(struct router *r, const struct stanza *iq, void *data)
{
	return answer(r, iq, data, ITEMS);
}

/* ---- life cycle and registration -------------------------------------------------- */

struct disco *disco_new(struct router *router)
{
	struct disco *d = g_new0(struct disco, 1);
	d->router = router;
	info_init(&d->self);
	d->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	d->providers = g_array_new(FALSE, FALSE, sizeof(struct provider));
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
	info_clear(&d->self);
	g_free(d->self_ver);
	g_hash_table_unref(d->nodes);
	g_array_unref(d->providers);
	g_free(d);
}

void disco_add_identity(struct disco *d, const char *category, const char *type, const char *name)
{
	disco_info_add_identity(&d->self, category, type, name);
	g_clear_pointer(&d->self_ver, g_free);
}

void disco_add_feature(struct disco *d, const char *var)
{
	disco_info_add_feature(&d->self, var);
	g_clear_pointer(&d->self_ver, g_free);
}

const GPtrArray *disco_features(const struct disco *d)
{
	return d->self.features;
}

const char *disco_caps_ver(struct disco *d)
{
	if (d->self_ver == NULL)
		d->self_ver = disco_info_caps_ver(&d->self);
	return d->self_ver;
}

void disco_add_node(struct disco *d, const char *node, const struct disco_provider *provider,
                    void *data)
{
	g_return_if_fail(!g_hash_table_contains(d->nodes, node));
	struct provider *p = g_new(struct provider, 1);
	p->ops = provider;
	p->data = data;
	g_hash_table_insert(d->nodes, g_strdup(node), p);
}

void disco_set_self_items(struct disco *d, const struct disco_provider *provider, void *data)
{
	d->self_items.ops = provider;
	d->self_items.data = data;
}

void disco_add_provider(struct disco *d, const struct disco_provider *provider, void *data)
{
	struct provider p = {provider, data};
	g_array_append_val(d->providers, p);
}
