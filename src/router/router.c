/* router: handler chains by stanza kind and iq namespace, plus the table of
 * ferry's pending iq requests. See include/ferry/router.h. */
#include "config.h"
#include "ferry/router.h"

#include <string.h>

struct handler {
	router_handler fn;
	void *user_data;
};

struct pending {
	struct router *router;
	char *id;
	char *to; /* the address asked; the answer must come from it */
	router_iq_callback callback;
	void *user_data;
	guint timer;
};

struct router {
	char *jid;
	router_send_fn send;
	void *send_data;
	GHashTable *iq_handlers; /* namespace -> GArray of struct handler */
	GArray *iq_filters;      /* asked before any namespace's chain */
	GArray *message_handlers;
	GArray *presence_handlers;
	GHashTable *pending; /* id -> struct pending */
	guint64 next_id;
};

static void pending_free(gpointer data)
{
	struct pending *p = data;
	g_clear_handle_id(&p->timer, g_source_remove);
	g_free(p->id);
	g_free(p->to);
	g_free(p);
}

static void handler_array_free(gpointer data)
{
	g_array_unref(data);
}

struct router *router_new(const char *jid, router_send_fn send, void *send_data)
{
	struct router *r = g_new0(struct router, 1);
	r->jid = g_strdup(jid);
	r->send = send;
	r->send_data = send_data;
	r->iq_handlers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, handler_array_free);
	r->iq_filters = g_array_new(FALSE, FALSE, sizeof(struct handler));
	r->message_handlers = g_array_new(FALSE, FALSE, sizeof(struct handler));
	r->presence_handlers = g_array_new(FALSE, FALSE, sizeof(struct handler));
	r->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, pending_free);
	return r;
}

void router_free(struct router *r)
{
	if (r == NULL)
		return;
	/* Callbacks may send stanzas; run them before tearing anything down. */
	while (g_hash_table_size(r->pending) > 0) {
		GHashTableIter it;
		gpointer key, value;
		g_hash_table_iter_init(&it, r->pending);
		g_hash_table_iter_next(&it, &key, &value);
		struct pending *p = value;
		g_hash_table_steal(r->pending, key);
		p->callback(r, NULL, p->user_data);
		pending_free(p);
	}
	g_hash_table_unref(r->pending);
	g_hash_table_unref(r->iq_handlers);
	g_array_unref(r->iq_filters);
	g_array_unref(r->message_handlers);
	g_array_unref(r->presence_handlers);
	g_free(r->jid);
	g_free(r);
}

const char *router_jid(const struct router *r)
{
	return r->jid;
}

bool router_to_transport(const struct router *r, const struct stanza *stanza)
{
	const char *to = stanza_get_to(stanza);
	if (to == NULL)
		return false;
	size_t n = strlen(r->jid);
	return g_ascii_strncasecmp(to, r->jid, n) == 0 && (to[n] == '\0' || to[n] == '/');
}

void router_add_iq_handler(struct router *r, const char *ns, router_handler fn, void *user_data)
{
	GArray *chain = g_hash_table_lookup(r->iq_handlers, ns);
	if (chain == NULL) {
		chain = g_array_new(FALSE, FALSE, sizeof(struct handler));
		g_hash_table_insert(r->iq_handlers, g_strdup(ns), chain);
	}
	struct handler h = {fn, user_data};
	g_array_append_val(chain, h);
}

void router_add_iq_filter(struct router *r, router_handler fn, void *user_data)
{
	struct handler h = {fn, user_data};
	g_array_append_val(r->iq_filters, h);
}

void router_add_message_handler(struct router *r, router_handler fn, void *user_data)
{
	struct handler h = {fn, user_data};
	g_array_append_val(r->message_handlers, h);
}

void router_add_presence_handler(struct router *r, router_handler fn, void *user_data)
{
	struct handler h = {fn, user_data};
	g_array_append_val(r->presence_handlers, h);
}

void router_send(struct router *r, struct stanza *stanza)
{
	r->send(r->send_data, stanza);
}

void router_send_error(struct router *r, const struct stanza *request, const char *condition,
                       const char *text)
{
	if (g_strcmp0(stanza_get_type(request), "error") == 0)
		return;
	const char *type = stanza_error_type_for(condition);
	router_send(r, stanza_new_error(request, type, condition, text, false));
}

void router_send_result(struct router *r, const struct stanza *request)
{
	router_send(r, stanza_new_reply(request, "result"));
}

static enum router_result run_chain(struct router *r, GArray *chain, const struct stanza *s)
{
	if (chain == NULL)
		return ROUTER_PASS;
	for (guint i = 0; i < chain->len; i++) {
		const struct handler *h = &g_array_index(chain, struct handler, i);
		if (h->fn(r, s, h->user_data) == ROUTER_HANDLED)
			return ROUTER_HANDLED;
	}
	return ROUTER_PASS;
}

/* true when the answer's sender matches the address the request went to:
 * the same JID, or its bare form. */
static bool sender_matches(const char *asked, const char *from)
{
	if (from == NULL)
		return false;
	if (g_ascii_strcasecmp(asked, from) == 0)
		return true;
	size_t n = strcspn(asked, "/");
	return strlen(from) == n && g_ascii_strncasecmp(asked, from, n) == 0;
}

static void dispatch_answer(struct router *r, const struct stanza *s)
{
	const char *id = stanza_get_id(s);
	struct pending *p = id != NULL ? g_hash_table_lookup(r->pending, id) : NULL;
	if (p == NULL || !sender_matches(p->to, stanza_get_from(s))) {
		g_debug("router: dropping unexpected iq %s id '%s' from %s", stanza_get_type(s),
		        id != NULL ? id : "",
		        stanza_get_from(s) != NULL ? stanza_get_from(s) : "?");
		return;
	}
	g_hash_table_steal(r->pending, p->id);
	p->callback(r, s, p->user_data);
	pending_free(p);
}

static void dispatch_iq(struct router *r, const struct stanza *s)
{
	const char *type = stanza_get_type(s);
	if (g_strcmp0(type, "result") == 0 || g_strcmp0(type, "error") == 0) {
		dispatch_answer(r, s);
		return;
	}
	if (g_strcmp0(type, "get") != 0 && g_strcmp0(type, "set") != 0) {
		router_send_error(r, s, "bad-request", "iq type must be get, set, result or error");
		return;
	}
	if (stanza_get_id(s) == NULL) {
		router_send_error(r, s, "bad-request", "iq without an id");
		return;
	}
	struct stanza *payload = stanza_next_child(s, NULL);
	if (payload == NULL || stanza_child_count(s) != 1) {
		router_send_error(r, s, "bad-request", "an iq get or set has exactly one payload");
		return;
	}
	if (run_chain(r, r->iq_filters, s) == ROUTER_HANDLED)
		return;
	const char *ns = stanza_ns(payload);
	GArray *chain = ns != NULL ? g_hash_table_lookup(r->iq_handlers, ns) : NULL;
	if (run_chain(r, chain, s) == ROUTER_PASS)
		router_send_error(r, s, "service-unavailable", NULL);
}

void router_dispatch(struct router *r, struct stanza *s)
{
	const char *name = stanza_name(s);
	if (strcmp(name, "iq") == 0) {
		dispatch_iq(r, s);
	} else if (strcmp(name, "message") == 0) {
		if (run_chain(r, r->message_handlers, s) == ROUTER_PASS &&
		    g_strcmp0(stanza_get_type(s), "error") != 0 &&
		    g_strcmp0(stanza_get_type(s), "groupchat") != 0)
			router_send_error(r, s, "service-unavailable", NULL);
	} else if (strcmp(name, "presence") == 0) {
		(void)run_chain(r, r->presence_handlers, s);
	} else {
		g_debug("router: ignoring unknown top-level element <%s>", name);
	}
	stanza_free(s);
}

/* The error a pending request's callback gets when its answer was skipped:
 * an iq error from the address asked, with the request's id. */
static void fail_pending(struct router *r, struct pending *p, const char *text)
{
	struct stanza *reply = stanza_new("iq");
	stanza_set_attr(reply, "type", "error");
	stanza_set_attr(reply, "id", p->id);
	stanza_set_attr(reply, "from", p->to);
	stanza_set_attr(reply, "to", r->jid);
	stanza_add_error(reply, "modify", "policy-violation", text);
	g_hash_table_steal(r->pending, p->id);
	p->callback(r, reply, p->user_data);
	pending_free(p);
	stanza_free(reply);
}

void router_dispatch_skipped(struct router *r, const struct stanza *head, const char *problem)
{
	const char *name = stanza_name(head);
	const char *type = stanza_get_type(head);
	const char *from = stanza_get_from(head);
	const char *id = stanza_get_id(head);
	bool is_iq = strcmp(name, "iq") == 0;
	bool is_answer = is_iq && (g_strcmp0(type, "result") == 0 || g_strcmp0(type, "error") == 0);
	const char *outcome = "dropped";
	if (is_answer) {
		struct pending *p = id != NULL ? g_hash_table_lookup(r->pending, id) : NULL;
		if (p != NULL && sender_matches(p->to, from)) {
			g_autofree char *text = g_strdup_printf(
			    "The answer was too large for the transport (%s).", problem);
			fail_pending(r, p, text);
			outcome = "failed the request it answered";
		}
	} else if (from != NULL && g_strcmp0(type, "error") != 0 &&
	           (strcmp(name, "message") == 0 || strcmp(name, "presence") == 0 ||
	            (is_iq && (g_strcmp0(type, "get") == 0 || g_strcmp0(type, "set") == 0)))) {
		g_autofree char *text = g_strdup_printf(
		    "The transport cannot take this %s: %s. Send it in smaller parts.", name,
		    problem);
		router_send_error(r, head, "policy-violation", text);
		outcome = "answered policy-violation";
	}
	/* Raw values: the log writer (log.c) escapes control, C1 and bidi
	 * characters in every line, so a newline in a stranger's id cannot
	 * forge a line of its own. */
	const char *to = stanza_get_to(head);
	g_message("router: skipped <%s type=%s> id '%s' from %s to %s (%s); %s", name,
	          type != NULL ? type : "?", id != NULL ? id : "?", from != NULL ? from : "?",
	          to != NULL ? to : "?", problem, outcome);
}

static gboolean pending_timeout(gpointer data)
{
	struct pending *p = data;
	struct router *r = p->router;
	p->timer = 0;
	g_debug("router: iq '%s' to %s timed out", p->id, p->to);
	g_hash_table_steal(r->pending, p->id);
	p->callback(r, NULL, p->user_data);
	pending_free(p);
	return G_SOURCE_REMOVE;
}

void router_send_iq(struct router *r, struct stanza *iq, guint timeout_ms,
                    router_iq_callback callback, void *user_data)
{
	g_return_if_fail(stanza_get_to(iq) != NULL);
	if (stanza_get_id(iq) == NULL) {
		char id[32];
		g_snprintf(id, sizeof id, "ferry-%" G_GUINT64_FORMAT, ++r->next_id);
		stanza_set_attr(iq, "id", id);
	}
	struct pending *p = g_new0(struct pending, 1);
	p->router = r;
	p->id = g_strdup(stanza_get_id(iq));
	p->to = g_strdup(stanza_get_to(iq));
	p->callback = callback;
	p->user_data = user_data;
	p->timer = g_timeout_add(timeout_ms, pending_timeout, p);
	/* An id reused by the caller replaces (and drops) the older request. */
	g_hash_table_replace(r->pending, p->id, p);
	router_send(r, iq);
}

void router_cancel_requests(struct router *r, void *user_data)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, r->pending);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((struct pending *)value)->user_data == user_data)
			g_hash_table_iter_remove(&it);
}

guint router_pending_count(const struct router *r)
{
	return g_hash_table_size(r->pending);
}
