/* roster: puts legacy contacts into users' rosters. With an XEP-0356 roster
 * permission from the server (urn:xmpp:privilege:1 on ejabberd 23.01, :2 on
 * Prosody's mod_privilege) ferry pushes the item itself with subscription
 * 'both'; otherwise, or when the push fails (ejabberd 23.01 grants the
 * permission but fails the set), each contact asks the user once with a
 * 'subscribe' that is remembered and never sent again. */
#include "config.h"
#include "internal.h"

#include <string.h>

#define PUSH_TIMEOUT_MS 15000

struct roster {
	const struct gateway_ctx *ctx;
	GHashTable *granted; /* server domain -> its XEP-0356 version (1 or 2), for
	                        the domains that granted roster access; each vhost
	                        of a server sends its own grant */
	bool broken;         /* a push failed: grants are not honoured */
	GHashTable *pending; /* struct push * awaiting an answer */
};

/* Identifies the contact of a pending push without holding pointers that
 * may be gone when the answer comes. */
struct push {
	struct roster *roster;
	char *user;
	char *legacy_name;
	bool remove;
};

struct roster *roster_new(const struct gateway_ctx *ctx)
{
	struct roster *r = g_new0(struct roster, 1);
	r->ctx = ctx;
	r->pending = g_hash_table_new(g_direct_hash, g_direct_equal);
	r->granted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	/* (values: GUINT_TO_POINTER of the version) */
	return r;
}

static void push_free(struct push *p)
{
	g_free(p->user);
	g_free(p->legacy_name);
	g_free(p);
}

void roster_free(struct roster *r)
{
	if (r == NULL)
		return;
	/* Unanswered pushes are dropped, not treated as failures. */
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, r->pending);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		router_cancel_requests(r->ctx->router, key);
		push_free(key);
	}
	g_hash_table_unref(r->pending);
	g_hash_table_unref(r->granted);
	g_free(r);
}

bool roster_on_privilege(struct roster *r, const struct stanza *m)
{
	const struct stanza *priv = stanza_find_child(m, "privilege", NS_PRIVILEGE_2);
	guint version = 2;
	if (priv == NULL) {
		priv = stanza_find_child(m, "privilege", NS_PRIVILEGE_1);
		version = 1;
	}
	const char *from = stanza_get_from(m);
	if (priv == NULL || from == NULL || strchr(from, '@') != NULL)
		return false;
	/* Only the servers of the domains the transport serves grant access
	 * to their users' rosters: anyone else's is no grant, and is not kept
	 * (each would be state a remote server could make ferry hold). */
	if (strchr(from, '/') != NULL || !settings_domain_allowed(r->ctx->settings, from)) {
		g_info("roster: ignoring a privilege message from %s: not a domain this transport "
		       "serves",
		       from);
		return true;
	}
	bool roster = false;
	for (struct stanza *p = stanza_next_child(priv, NULL); p != NULL;
	     p = stanza_next_child(priv, p)) {
		const char *type = stanza_get_attr(p, "type");
		if (g_strcmp0(stanza_get_attr(p, "access"), "roster") == 0 &&
		    (g_strcmp0(type, "set") == 0 || g_strcmp0(type, "both") == 0))
			roster = true;
	}
	/* Domains are kept lower-cased: a withdrawal spelled differently
	 * from its grant still takes it back. */
	char *domain = g_ascii_strdown(from, -1);
	if (roster) {
		g_hash_table_replace(r->granted, domain, GUINT_TO_POINTER(version));
	} else {
		g_hash_table_remove(r->granted, domain);
		g_free(domain);
	}
	g_message("roster: %s %s roster access (%s)", from, roster ? "grants" : "does not grant",
	          stanza_ns(priv));
	return true;
}

/* true when pushes to USER's roster may be tried. */
static bool can_push(const struct roster *r, const char *user)
{
	if (r->broken)
		return false;
	const char *domain = strchr(user, '@');
	if (domain == NULL)
		return false;
	g_autofree char *lower = g_ascii_strdown(domain + 1, -1);
	return g_hash_table_contains(r->granted, lower);
}

static void ask_subscription(struct session *s, struct contact *c)
{
	guint flags = contact_flags(c);
	if (flags & STORAGE_CONTACT_SUBSCRIBE_SENT)
		return;
	struct router *router = session_ctx(s)->router;
	out_subscribe(router, contact_jid(c), session_jid(s), contact_display_name(c), NULL);
	contact_set_flags(c, flags | STORAGE_CONTACT_SUBSCRIBE_SENT);
	contact_store(s, c);
}

static void on_push_answer(struct router *router, const struct stanza *reply, void *data)
{
	struct push *p = data;
	struct roster *r = p->roster;
	g_hash_table_remove(r->pending, p);
	bool ok = reply != NULL && g_strcmp0(stanza_get_type(reply), "result") == 0;
	struct session *s = sessions_get(r->ctx->sessions, p->user, false);
	struct contact *c = s != NULL ? contact_get(s, p->legacy_name, false) : NULL;
	if (!ok && !r->broken) {
		r->broken = true;
		g_warning("roster: a privileged roster push to %s failed (%s); asking users to "
		          "accept contacts instead",
		          p->user, reply == NULL ? "no answer" : "error");
	}
	/* A contact removed meanwhile stays removed: not stored again, not asked. */
	if (c != NULL && !p->remove && contact_is_buddy(c)) {
		if (ok) {
			contact_set_flags(c, contact_flags(c) | STORAGE_CONTACT_IN_ROSTER);
			contact_store(s, c);
			contact_send_presence(s, c, NULL);
		} else {
			ask_subscription(s, c);
		}
	}
	push_free(p);
}

static void push(struct session *s, struct contact *c, bool remove)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	struct stanza *iq = stanza_new("iq");
	stanza_set_attr(iq, "type", "set");
	stanza_set_attr(iq, "from", ctx->jid);
	stanza_set_attr(iq, "to", session_jid(s));
	struct stanza *q = stanza_add_child(iq, "query", NS_ROSTER);
	struct stanza *item = stanza_add_child(q, "item", NULL);
	stanza_set_attr(item, "jid", contact_jid(c));
	if (remove) {
		stanza_set_attr(item, "subscription", "remove");
	} else {
		stanza_set_attr(item, "name", contact_display_name(c));
		stanza_set_attr(item, "subscription", "both");
		stanza_add_text_child(item, "group", regform_protocol_name(ctx->form));
	}
	struct push *p = g_new0(struct push, 1);
	p->roster = ctx->roster;
	p->user = g_strdup(session_jid(s));
	p->legacy_name = g_strdup(contact_legacy_name(c));
	p->remove = remove;
	g_hash_table_add(ctx->roster->pending, p);
	router_send_iq(ctx->router, iq, PUSH_TIMEOUT_MS, on_push_answer, p);
}

void roster_add(struct session *s, struct contact *c)
{
	if (contact_jid(c) == NULL || (contact_flags(c) & STORAGE_CONTACT_IN_ROSTER))
		return;
	if (can_push(session_ctx(s)->roster, session_jid(s)))
		push(s, c, false);
	else
		ask_subscription(s, c);
}

void roster_remove(struct session *s, struct contact *c)
{
	const char *jid = contact_jid(c);
	if (jid == NULL)
		return;
	const struct gateway_ctx *ctx = session_ctx(s);
	if ((contact_flags(c) & STORAGE_CONTACT_IN_ROSTER) &&
	    can_push(ctx->roster, session_jid(s))) {
		push(s, c, true);
	} else {
		out_presence(ctx->router, jid, session_jid(s), "unsubscribe");
		out_presence(ctx->router, jid, session_jid(s), "unsubscribed");
	}
	out_presence(ctx->router, contact_full_jid(c), session_jid(s), "unavailable");
	contact_set_flags(c, 0);
}

/* ---- what the status command shows and fixes ---------------------------------------- */

guint roster_privilege(const struct roster *r, const char *user, bool *pushing)
{
	const char *domain = strchr(user, '@');
	g_autofree char *lower = g_ascii_strdown(domain != NULL ? domain + 1 : user, -1);
	guint version = GPOINTER_TO_UINT(g_hash_table_lookup(r->granted, lower));
	if (pushing != NULL)
		*pushing = version != 0 && !r->broken;
	return version;
}

void roster_on_user_presence(struct session *s, struct contact *c, const char *type)
{
	/* The user accepted the contact's request, or asked for it: the
	 * item is in their roster (the server put it there). */
	if (strcmp(type, "subscribed") != 0 && strcmp(type, "subscribe") != 0)
		return;
	guint flags = contact_flags(c);
	if (flags & STORAGE_CONTACT_IN_ROSTER)
		return;
	contact_set_flags(c, flags | STORAGE_CONTACT_IN_ROSTER);
	if (contact_is_buddy(c))
		contact_store(s, c);
}

/* S's buddies (stored) that are not in the roster as far as ferry knows,
 * as struct contact * (borrowed; the array is the caller's). */
static GPtrArray *missing(struct session *s)
{
	GPtrArray *out = g_ptr_array_new();
	contacts_load(s);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) stored =
	    storage_contact_list(session_ctx(s)->storage, session_jid(s), &err);
	if (stored == NULL) {
		g_warning("roster: %s: cannot read contacts: %s", session_jid(s), err->message);
		return out;
	}
	for (guint i = 0; i < stored->len; i++) {
		const struct storage_contact *sc = g_ptr_array_index(stored, i);
		struct contact *c = contact_get(s, sc->legacy_name, false);
		if (c != NULL && contact_is_buddy(c) && contact_jid(c) != NULL &&
		    !(contact_flags(c) & STORAGE_CONTACT_IN_ROSTER))
			g_ptr_array_add(out, c);
	}
	return out;
}

guint roster_missing(struct session *s)
{
	g_autoptr(GPtrArray) list = missing(s);
	return list->len;
}

guint roster_fix(struct session *s, bool *pushed)
{
	struct roster *r = session_ctx(s)->roster;
	bool granted = roster_privilege(r, session_jid(s), NULL) != 0;
	/* a grant whose pushes failed once is tried again: a failure falls
	 * back to the subscription request, as at first */
	if (granted && r->broken) {
		g_info("roster: %s asked to fix the roster: trying privileged pushes again",
		       session_jid(s));
		r->broken = false;
	}
	*pushed = granted;
	g_autoptr(GPtrArray) list = missing(s);
	for (guint i = 0; i < list->len; i++) {
		struct contact *c = g_ptr_array_index(list, i);
		if (granted) {
			push(s, c, false);
		} else {
			/* asked once before: asked again, the user asked for it */
			contact_set_flags(c, contact_flags(c) &
			                         ~(guint)STORAGE_CONTACT_SUBSCRIBE_SENT);
			ask_subscription(s, c);
		}
	}
	return list->len;
}
