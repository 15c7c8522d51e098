/* contacts: a session's legacy buddies as XMPP contacts at the transport
 * domain — their presence, the user's subscriptions to them, and legacy
 * authorization requests as subscription requests. */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/jid.h"

void contact_free(gpointer data)
{
	struct contact *c = data;
	g_free(c->legacy_name);
	g_free(c->jid);
	g_free(c->alias);
	g_free(c->message);
	g_free(c);
}

struct contact *contact_get(struct session *s, const char *legacy_name, bool create)
{
	struct contact *c = g_hash_table_lookup(s->contacts, legacy_name);
	if (c != NULL || !create)
		return c;
	c = g_new0(struct contact, 1);
	c->legacy_name = g_strdup(legacy_name);
	g_autofree char *local = jid_escape_local(legacy_name);
	if (local != NULL) {
		c->jid = g_strdup_printf("%s@%s", local, s->gw->jid);
		/* Servers case-fold localparts: look contacts up folded. */
		g_hash_table_replace(s->by_local, g_utf8_casefold(local, -1), c);
	} else {
		g_info("contacts: %s: legacy name '%s' cannot be a JID localpart", s->jid,
		       legacy_name);
	}
	g_hash_table_insert(s->contacts, c->legacy_name, c);
	return c;
}

struct contact *contact_by_local(struct session *s, const char *localpart)
{
	contacts_load(s);
	g_autofree char *folded = g_utf8_casefold(localpart, -1);
	struct contact *c = g_hash_table_lookup(s->by_local, folded);
	if (c != NULL)
		return c;
	g_autofree char *name = jid_unescape_local(localpart);
	if (name == NULL || *name == '\0')
		return NULL;
	return contact_get(s, name, true);
}

void contacts_load(struct session *s)
{
	if (s->contacts_loaded)
		return;
	s->contacts_loaded = true;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) list = storage_contact_list(s->gw->storage, s->jid, &err);
	if (list == NULL) {
		g_warning("contacts: %s: cannot read contacts: %s", s->jid, err->message);
		return;
	}
	for (guint i = 0; i < list->len; i++) {
		const struct storage_contact *sc = g_ptr_array_index(list, i);
		struct contact *c = contact_get(s, sc->legacy_name, true);
		c->buddy = true;
		c->flags = sc->flags;
	}
}

static void store(struct session *s, struct contact *c)
{
	g_autoptr(GError) err = NULL;
	if (!storage_contact_put(s->gw->storage, s->jid, c->legacy_name, c->flags, &err))
		g_warning("contacts: %s: cannot store contact '%s': %s", s->jid, c->legacy_name,
		          err->message);
}

static void unstore(struct session *s, struct contact *c)
{
	g_autoptr(GError) err = NULL;
	if (!storage_contact_delete(s->gw->storage, s->jid, c->legacy_name, &err))
		g_warning("contacts: %s: cannot delete contact '%s': %s", s->jid, c->legacy_name,
		          err->message);
}

/* ---- presence ------------------------------------------------------------------------ */

static const char *show_for(guint32 status)
{
	switch (status) {
	case WORKER_STATUS_AWAY:
		return "away";
	case WORKER_STATUS_XA:
		return "xa";
	case WORKER_STATUS_DND:
		return "dnd";
	default:
		return NULL;
	}
}

void contact_send_presence(struct session *s, struct contact *c, const char *to)
{
	if (c->jid == NULL)
		return;
	const char *dest = to != NULL ? to : s->jid;
	bool online = s->state == SESSION_ONLINE && c->status != WORKER_STATUS_OFFLINE;
	struct stanza *p = gateway_presence(s->gw, c->jid, dest, online ? NULL : "unavailable");
	const char *show = show_for(c->status);
	if (online && show != NULL)
		stanza_add_text_child(p, "show", show);
	if (online && c->message != NULL && *c->message != '\0')
		stanza_add_text_child(p, "status", c->message);
	gateway_send(s->gw, p);
}

void contacts_all_offline(struct session *s)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, s->contacts);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct contact *c = value;
		if (c->status == WORKER_STATUS_OFFLINE)
			continue;
		c->status = WORKER_STATUS_OFFLINE;
		contact_send_presence(s, c, NULL);
	}
}

void contacts_push_buddies(struct session *s)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, s->contacts);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct contact *c = value;
		if (c->buddy)
			workers_send(s->gw->workers, s->account, WORKER_ADD_BUDDY,
			             g_variant_new("(ss)", c->legacy_name,
			                           c->alias != NULL ? c->alias : ""));
	}
}

/* Makes C a buddy: stored, and in the user's roster. */
static void make_buddy(struct session *s, struct contact *c)
{
	if (c->buddy)
		return;
	c->buddy = true;
	store(s, c);
	roster_add(s, c);
}

void contacts_on_buddy_status(struct session *s, GVariant *payload)
{
	const char *name, *alias, *message;
	guint32 status;
	g_variant_get(payload, "(&s&su&s)", &name, &alias, &status, &message);
	struct contact *c = contact_get(s, name, true);
	if (*alias != '\0' && g_strcmp0(alias, name) != 0 && g_strcmp0(alias, c->alias) != 0) {
		g_free(c->alias);
		c->alias = g_strdup(alias);
	}
	bool changed = c->status != status || g_strcmp0(c->message, message) != 0;
	c->status = status;
	g_free(c->message);
	c->message = g_strdup(message);
	make_buddy(s, c);
	if (changed)
		contact_send_presence(s, c, NULL);
}

void contacts_on_buddy_removed(struct session *s, GVariant *payload)
{
	const char *name;
	g_variant_get(payload, "(&s)", &name);
	struct contact *c = contact_get(s, name, false);
	if (c == NULL || !c->buddy)
		return;
	c->buddy = false;
	c->status = WORKER_STATUS_OFFLINE;
	unstore(s, c);
	roster_remove(s, c);
}

void contacts_on_auth_request(struct session *s, GVariant *payload)
{
	guint32 id;
	const char *name, *alias, *message;
	g_variant_get(payload, "(u&s&s&s)", &id, &name, &alias, &message);
	struct contact *c = contact_get(s, name, true);
	if (c->jid == NULL) {
		workers_send(s->gw->workers, s->account, WORKER_AUTH_REPLY,
		             g_variant_new("(ub)", id, FALSE));
		return;
	}
	c->auth_request = id;
	struct stanza *p = gateway_presence(s->gw, c->jid, s->jid, "subscribe");
	if (*message != '\0')
		stanza_add_text_child(p, "status", message);
	if (*alias != '\0') {
		struct stanza *nick = stanza_add_text_child(p, "nick", alias);
		stanza_set_attr(nick, "xmlns", "http://jabber.org/protocol/nick");
	}
	gateway_send(s->gw, p);
}

static void answer_auth(struct session *s, struct contact *c, bool granted)
{
	if (c->auth_request == 0)
		return;
	workers_send(s->gw->workers, s->account, WORKER_AUTH_REPLY,
	             g_variant_new("(ub)", c->auth_request, granted));
	c->auth_request = 0;
}

void contacts_on_user_presence(struct session *s, struct contact *c, const struct stanza *p)
{
	const char *type = stanza_get_type(p);
	const char *from = stanza_get_from(p);
	if (c->jid == NULL || type == NULL)
		return;
	if (strcmp(type, "probe") == 0) {
		contact_send_presence(s, c, from);
	} else if (strcmp(type, "subscribe") == 0) {
		/* The user adds the contact: add it on the legacy side too. Sent
		 * even for a known buddy: it may be on the legacy list without our
		 * subscription to it (an XMPP contact that only asked for ours),
		 * and adding again is harmless. */
		if (!c->buddy) {
			c->buddy = true;
			store(s, c);
		}
		if (s->state == SESSION_ONLINE)
			workers_send(s->gw->workers, s->account, WORKER_ADD_BUDDY,
			             g_variant_new("(ss)", c->legacy_name,
			                           c->alias != NULL ? c->alias : ""));
		gateway_send(s->gw, gateway_presence(s->gw, c->jid, s->jid, "subscribed"));
		contact_send_presence(s, c, NULL);
	} else if (strcmp(type, "subscribed") == 0) {
		answer_auth(s, c, true);
	} else if (strcmp(type, "unsubscribed") == 0) {
		answer_auth(s, c, false);
	} else if (strcmp(type, "unsubscribe") == 0) {
		/* The user removed the contact: remove it on the legacy side. */
		if (c->buddy) {
			c->buddy = false;
			c->flags = 0;
			unstore(s, c);
			if (s->state == SESSION_ONLINE)
				workers_send(s->gw->workers, s->account, WORKER_REMOVE_BUDDY,
				             g_variant_new("(s)", c->legacy_name));
		}
		gateway_send(s->gw, gateway_presence(s->gw, c->jid, s->jid, "unsubscribed"));
		gateway_send(s->gw, gateway_presence(s->gw, c->jid, s->jid, "unavailable"));
	}
}

void contacts_remove_all(struct session *s)
{
	contacts_load(s);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, s->contacts);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct contact *c = value;
		if (c->buddy)
			roster_remove(s, c);
	}
}
