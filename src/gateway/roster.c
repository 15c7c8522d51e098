/* roster: puts legacy contacts into users' rosters. With an XEP-0356 roster
 * permission from the server (urn:xmpp:privilege:1 on ejabberd 23.01, :2 on
 * Prosody's mod_privilege) ferry pushes the item itself with subscription
 * 'both'; otherwise, or when the push fails (ejabberd 23.01 grants the
 * permission but fails the set), each contact asks the user once with a
 * 'subscribe' that is remembered and never sent again. */
#include "config.h"
#include "internal.h"

#include <string.h>

#define NS_PRIVILEGE_1 "urn:xmpp:privilege:1"
#define NS_PRIVILEGE_2 "urn:xmpp:privilege:2"
#define PUSH_TIMEOUT_MS 15000

struct roster {
	struct gateway *gw;
	GHashTable *granted; /* server domains that granted roster access; each
	                        vhost of a server sends its own grant */
	bool broken;         /* a push failed: grants are not honoured */
	GHashTable *pending; /* struct push * awaiting an answer */
};

/* Identifies the contact of a pending push without holding pointers that
 * may be gone when the answer comes. */
struct push {
	struct gateway *gw;
	char *user;
	char *legacy_name;
	bool remove;
};

struct roster *roster_new(struct gateway *gw)
{
	struct roster *r = g_new0(struct roster, 1);
	r->gw = gw;
	r->pending = g_hash_table_new(g_direct_hash, g_direct_equal);
	r->granted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return r;
}

static void push_free(struct push *p);

void roster_free(struct roster *r)
{
	if (r == NULL)
		return;
	/* Unanswered pushes are dropped, not treated as failures. */
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, r->pending);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		router_cancel_requests(r->gw->router, key);
		push_free(key);
	}
	g_hash_table_unref(r->pending);
	g_hash_table_unref(r->granted);
	g_free(r);
}

bool roster_on_privilege(struct roster *r, const struct stanza *m)
{
	const struct stanza *priv = stanza_find_child(m, "privilege", NS_PRIVILEGE_2);
	if (priv == NULL)
		priv = stanza_find_child(m, "privilege", NS_PRIVILEGE_1);
	const char *from = stanza_get_from(m);
	if (priv == NULL || from == NULL || strchr(from, '@') != NULL)
		return false;
	bool roster = false;
	for (struct stanza *p = stanza_next_child(priv, NULL); p != NULL;
	     p = stanza_next_child(priv, p)) {
		const char *type = stanza_get_attr(p, "type");
		if (g_strcmp0(stanza_get_attr(p, "access"), "roster") == 0 &&
		    (g_strcmp0(type, "set") == 0 || g_strcmp0(type, "both") == 0))
			roster = true;
	}
	if (roster)
		g_hash_table_add(r->granted, g_ascii_strdown(from, -1));
	else
		g_hash_table_remove(r->granted, from);
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
	if (c->flags & STORAGE_CONTACT_SUBSCRIBE_SENT)
		return;
	struct stanza *p = gateway_presence(s->gw, c->jid, s->jid, "subscribe");
	const char *name = c->alias != NULL ? c->alias : c->legacy_name;
	struct stanza *nick = stanza_add_text_child(p, "nick", name);
	stanza_set_attr(nick, "xmlns", "http://jabber.org/protocol/nick");
	gateway_send(s->gw, p);
	c->flags |= STORAGE_CONTACT_SUBSCRIBE_SENT;
	g_autoptr(GError) err = NULL;
	if (!storage_contact_put(s->gw->storage, s->jid, c->legacy_name, c->flags, &err))
		g_warning("roster: %s: cannot store contact '%s': %s", s->jid, c->legacy_name,
		          err->message);
}

static void push_free(struct push *p)
{
	g_free(p->user);
	g_free(p->legacy_name);
	g_free(p);
}

static void on_push_answer(struct router *router, const struct stanza *reply, void *data)
{
	struct push *p = data;
	struct gateway *gw = p->gw;
	g_hash_table_remove(gw->roster->pending, p);
	bool ok = reply != NULL && g_strcmp0(stanza_get_type(reply), "result") == 0;
	struct session *s = g_hash_table_lookup(gw->sessions, p->user);
	struct contact *c = s != NULL ? contact_get(s, p->legacy_name, false) : NULL;
	if (!ok && !gw->roster->broken) {
		gw->roster->broken = true;
		g_warning("roster: a privileged roster push to %s failed (%s); asking users to "
		          "accept contacts instead",
		          p->user, reply == NULL ? "no answer" : "error");
	}
	if (c != NULL && !p->remove) {
		if (ok) {
			c->flags |= STORAGE_CONTACT_IN_ROSTER;
			g_autoptr(GError) err = NULL;
			if (!storage_contact_put(gw->storage, s->jid, c->legacy_name, c->flags,
			                         &err))
				g_warning("roster: %s: cannot store contact: %s", s->jid,
				          err->message);
			contact_send_presence(s, c, NULL);
		} else {
			ask_subscription(s, c);
		}
	}
	push_free(p);
}

static void push(struct session *s, struct contact *c, bool remove)
{
	struct gateway *gw = s->gw;
	struct stanza *iq = stanza_new("iq");
	stanza_set_attr(iq, "type", "set");
	stanza_set_attr(iq, "from", gw->jid);
	stanza_set_attr(iq, "to", s->jid);
	struct stanza *q = stanza_add_child(iq, "query", NS_ROSTER);
	struct stanza *item = stanza_add_child(q, "item", NULL);
	stanza_set_attr(item, "jid", c->jid);
	if (remove) {
		stanza_set_attr(item, "subscription", "remove");
	} else {
		stanza_set_attr(item, "name", c->alias != NULL ? c->alias : c->legacy_name);
		stanza_set_attr(item, "subscription", "both");
		stanza_add_text_child(item, "group", regform_protocol_name(gw->form));
	}
	struct push *p = g_new0(struct push, 1);
	p->gw = gw;
	p->user = g_strdup(s->jid);
	p->legacy_name = g_strdup(c->legacy_name);
	p->remove = remove;
	g_hash_table_add(gw->roster->pending, p);
	router_send_iq(gw->router, iq, PUSH_TIMEOUT_MS, on_push_answer, p);
}

void roster_add(struct session *s, struct contact *c)
{
	if (c->jid == NULL || (c->flags & STORAGE_CONTACT_IN_ROSTER))
		return;
	if (can_push(s->gw->roster, s->jid))
		push(s, c, false);
	else
		ask_subscription(s, c);
}

void roster_remove(struct session *s, struct contact *c)
{
	if (c->jid == NULL)
		return;
	if ((c->flags & STORAGE_CONTACT_IN_ROSTER) && can_push(s->gw->roster, s->jid)) {
		push(s, c, true);
	} else {
		gateway_send(s->gw, gateway_presence(s->gw, c->jid, s->jid, "unsubscribe"));
		gateway_send(s->gw, gateway_presence(s->gw, c->jid, s->jid, "unsubscribed"));
	}
	gateway_send(s->gw, gateway_presence(s->gw, c->jid, s->jid, "unavailable"));
	c->flags = 0;
}
