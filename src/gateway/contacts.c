/* contacts: a session's legacy buddies as XMPP contacts at the transport
 * domain — their presence, the user's subscriptions to them, legacy
 * authorization requests as subscription requests, and what disco says
 * of a contact JID. */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/markup.h"

struct contacts {
	struct session *session;
	GHashTable *by_name;  /* legacy name -> struct contact * (owned) */
	GHashTable *by_local; /* address_local_key(escaped localpart) -> struct contact * */
	bool loaded;          /* the stored buddies were read */
	/* The contacts that are no buddies (a probe, a message from or to a
	 * name not in the roster), least recently used first: bounded by
	 * [limits] max_pending_probes, and forgotten when idle. */
	GQueue others;
	guint sweep;       /* timer: forgets idle others */
	guint64 forgotten; /* others forgotten so far (reported in the log) */
};

/* How often the idle ones are looked for, at most ([limits] say how long
 * one may stay unused: settings->contact_idle_ms, 10 min). */
#define CONTACTS_SWEEP_MS 60000
/* One log line per this many forgotten: a count to watch, not a flood. */
#define CONTACTS_FORGOTTEN_REPORT 256

struct contact {
	char *legacy_name;    /* as the legacy network spells it */
	char *jid;            /* escaped localpart @ transport; NULL if not escapable */
	char *full;           /* jid/GATEWAY_RESOURCE: presence and messages come from it */
	char *alias;          /* may be NULL */
	guint32 status;       /* WORKER_STATUS_* */
	char *message;        /* status text, may be NULL */
	char *auto_away;      /* away text from an automatic reply, until they stir; or NULL */
	guint32 away_test;    /* seq of the message testing AUTO_AWAY (0: none yet) */
	guint flags;          /* enum storage_contact_flags */
	bool buddy;           /* on the legacy contact list (and stored) */
	bool bare_cleared;    /* the unavailable from the bare JID was sent */
	guint32 auth_request; /* pending authorization request id, 0 if none */
	GList other;          /* its link in contacts.others while not a buddy */
	gint64 used_us;       /* monotonic time of its last use, for the others */
};

static void contact_free(gpointer data)
{
	struct contact *c = data;
	g_free(c->legacy_name);
	g_free(c->jid);
	g_free(c->full);
	g_free(c->alias);
	g_free(c->message);
	g_free(c->auto_away);
	g_free(c);
}

struct contacts *contacts_new(struct session *s)
{
	struct contacts *cs = g_new0(struct contacts, 1);
	cs->session = s;
	cs->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, contact_free);
	cs->by_local = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return cs;
}

void contacts_free(struct contacts *cs)
{
	if (cs == NULL)
		return;
	g_clear_handle_id(&cs->sweep, g_source_remove);
	g_hash_table_unref(cs->by_local);
	g_hash_table_unref(cs->by_name);
	g_free(cs);
}

const char *contact_jid(const struct contact *c)
{
	return c->jid;
}

const char *contact_full_jid(const struct contact *c)
{
	return c->full;
}

const char *contact_legacy_name(const struct contact *c)
{
	return c->legacy_name;
}

const char *contact_display_name(const struct contact *c)
{
	return c->alias != NULL ? c->alias : c->legacy_name;
}

bool contact_is_buddy(const struct contact *c)
{
	return c->buddy;
}

guint32 contact_status(const struct contact *c, const char **text)
{
	/* as contact_send_presence() shows it */
	bool auto_away = c->auto_away != NULL && (c->status == WORKER_STATUS_OFFLINE ||
	                                          c->status == WORKER_STATUS_AVAILABLE);
	*text = c->auto_away != NULL ? c->auto_away : c->message;
	return auto_away ? WORKER_STATUS_AWAY : c->status;
}

guint contact_flags(const struct contact *c)
{
	return c->flags;
}

void contact_set_flags(struct contact *c, guint flags)
{
	c->flags = flags;
}

/* ---- the contacts outside the roster ----------------------------------------------- */

static bool is_other(const struct contact *c)
{
	return c->other.data != NULL;
}

/* C was used: the most recently used of the others. */
static void touch(struct contacts *cs, struct contact *c)
{
	if (!is_other(c))
		return;
	c->used_us = g_get_monotonic_time();
	g_queue_unlink(&cs->others, &c->other);
	g_queue_push_tail_link(&cs->others, &c->other);
}

/* Whether C is a buddy (stored, in the roster) or one of the others. */
static void set_buddy(struct contacts *cs, struct contact *c, bool buddy)
{
	c->buddy = buddy;
	if (buddy && is_other(c)) {
		g_queue_unlink(&cs->others, &c->other);
		c->other.data = NULL;
	} else if (!buddy && !is_other(c)) {
		c->other.data = c;
		c->used_us = g_get_monotonic_time();
		g_queue_push_tail_link(&cs->others, &c->other);
	}
}

/* Forgets C, one of the others: nothing of it is kept that ferry cannot
 * learn again. */
static void forget(struct session *s, struct contact *c)
{
	struct contacts *cs = session_contacts(s);
	g_queue_unlink(&cs->others, &c->other);
	c->other.data = NULL;
	if (c->jid != NULL) {
		g_autofree char *local = g_strndup(c->jid, strcspn(c->jid, "@"));
		g_autofree char *key = address_local_key(local);
		if (g_hash_table_lookup(cs->by_local, key) == c)
			g_hash_table_remove(cs->by_local, key);
	}
	g_hash_table_remove(cs->by_name, c->legacy_name); /* frees C */
	if (++cs->forgotten % CONTACTS_FORGOTTEN_REPORT == 0)
		g_debug("contacts: %s: %u contacts outside the roster in memory (bound %u); "
		        "%" G_GUINT64_FORMAT " forgotten so far",
		        session_jid(s), cs->others.length,
		        session_ctx(s)->settings->max_pending_probes, cs->forgotten);
}

/* An other that must stay: a legacy authorization request waits for the
 * user's answer. */
static bool pinned(const struct contact *c)
{
	return c->auth_request != 0;
}

static gboolean sweep(gpointer data)
{
	struct session *s = data;
	struct contacts *cs = session_contacts(s);
	gint64 now = g_get_monotonic_time();
	gint64 idle = (gint64)session_ctx(s)->settings->contact_idle_ms * 1000;
	/* oldest first: stop at the first one still in use */
	for (GList *l = cs->others.head; l != NULL;) {
		struct contact *c = l->data;
		l = l->next;
		if (now - c->used_us < idle)
			break;
		if (!pinned(c))
			forget(s, c);
	}
	if (cs->others.length > 0)
		return G_SOURCE_CONTINUE;
	cs->sweep = 0;
	return G_SOURCE_REMOVE;
}

/* Room for one more other: the least recently used ones go past the
 * bound. */
static void make_room(struct session *s)
{
	struct contacts *cs = session_contacts(s);
	guint bound = session_ctx(s)->settings->max_pending_probes;
	for (GList *l = cs->others.head; l != NULL && cs->others.length >= bound;) {
		struct contact *c = l->data;
		l = l->next;
		if (!pinned(c))
			forget(s, c);
	}
	if (cs->sweep == 0)
		cs->sweep = g_timeout_add(
		    MIN(CONTACTS_SWEEP_MS, session_ctx(s)->settings->contact_idle_ms), sweep, s);
}

/* ---- lookup --------------------------------------------------------------------------- */

struct contact *contact_get(struct session *s, const char *legacy_name, bool create)
{
	struct contacts *cs = session_contacts(s);
	struct contact *c = g_hash_table_lookup(cs->by_name, legacy_name);
	if (c != NULL)
		touch(cs, c);
	if (c != NULL || !create)
		return c;
	make_room(s);
	c = g_new0(struct contact, 1);
	c->legacy_name = g_strdup(legacy_name);
	c->jid = address_contact_jid_for(session_ctx(s)->address, session_jid(s), legacy_name);
	if (c->jid != NULL) {
		c->full = address_full(c->jid);
		g_autofree char *local = g_strndup(c->jid, strcspn(c->jid, "@"));
		g_hash_table_replace(cs->by_local, address_local_key(local), c);
	} else {
		g_info("contacts: %s: legacy name '%s' cannot be a JID localpart", session_jid(s),
		       legacy_name);
	}
	g_hash_table_insert(cs->by_name, c->legacy_name, c);
	set_buddy(cs, c, false);
	return c;
}

/* The known contact LOCALPART (escaped, any case) addresses, or NULL. */
static struct contact *lookup_local(struct session *s, const char *localpart)
{
	contacts_load(s);
	g_autofree char *key = address_local_key(localpart);
	struct contact *c = g_hash_table_lookup(session_contacts(s)->by_local, key);
	if (c != NULL)
		touch(session_contacts(s), c);
	return c;
}

struct contact *contact_by_local(struct session *s, const char *localpart)
{
	struct contact *c = lookup_local(s, localpart);
	if (c != NULL)
		return c;
	g_autofree char *name = address_legacy_name(session_ctx(s)->address, localpart);
	return name != NULL ? contact_get(s, name, true) : NULL;
}

void contacts_load(struct session *s)
{
	struct contacts *cs = session_contacts(s);
	if (cs->loaded)
		return;
	cs->loaded = true;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) list =
	    storage_contact_list(session_ctx(s)->storage, session_jid(s), &err);
	if (list == NULL) {
		g_warning("contacts: %s: cannot read contacts: %s", session_jid(s), err->message);
		return;
	}
	for (guint i = 0; i < list->len; i++) {
		const struct storage_contact *sc = g_ptr_array_index(list, i);
		struct contact *c = contact_get(s, sc->legacy_name, true);
		set_buddy(cs, c, true);
		c->flags = sc->flags;
	}
}

void contact_store(struct session *s, struct contact *c)
{
	g_autoptr(GError) err = NULL;
	if (!storage_contact_put(session_ctx(s)->storage, session_jid(s), c->legacy_name, c->flags,
	                         &err))
		g_warning("contacts: %s: cannot store contact '%s': %s", session_jid(s),
		          c->legacy_name, err->message);
}

static void unstore(struct session *s, struct contact *c)
{
	g_autoptr(GError) err = NULL;
	if (!storage_contact_delete(session_ctx(s)->storage, session_jid(s), c->legacy_name, &err))
		g_warning("contacts: %s: cannot delete contact '%s': %s", session_jid(s),
		          c->legacy_name, err->message);
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

/* What every contact's full JID answers to disco#info: the same for all,
 * so that clients fetch one caps ver per transport, not one per contact
 * (the legacy spelling is in the bare JID's answer). */
static void full_jid_info(const struct gateway_ctx *ctx, struct disco_info *info)
{
	disco_info_add_identity(info, "client", "pc", regform_protocol_name(ctx->form));
	disco_info_add_feature(info, NS_DISCO_INFO);
	disco_info_add_feature(info, NS_CAPS);
	disco_info_add_feature(info, NS_CHATSTATES);
}

char *contacts_caps_ver(const struct gateway_ctx *ctx)
{
	struct disco_info *info = disco_info_new();
	full_jid_info(ctx, info);
	char *ver = disco_info_caps_ver(info);
	disco_info_free(info);
	return ver;
}

void contact_send_presence(struct session *s, struct contact *c, const char *to)
{
	if (c->jid == NULL)
		return;
	const struct gateway_ctx *ctx = session_ctx(s);
	struct router *router = ctx->router;
	const char *dest = to != NULL ? to : session_jid(s);
	/* A contact the legacy network just said is away (an automatic
	 * reply) is on it, whatever the buddy list knows. */
	guint32 status = c->status;
	if (c->auto_away != NULL &&
	    (status == WORKER_STATUS_OFFLINE || status == WORKER_STATUS_AVAILABLE))
		status = WORKER_STATUS_AWAY;
	const char *text = c->auto_away != NULL ? c->auto_away : c->message;
	bool online = session_state(s) == SESSION_ONLINE && status != WORKER_STATUS_OFFLINE;
	struct stanza *p =
	    out_full_presence_new(router, &c->bare_cleared, c->jid, c->full, session_jid(s), dest,
	                          online ? NULL : "unavailable");
	const char *show = show_for(status);
	if (online && show != NULL)
		stanza_add_text_child(p, "show", show);
	if (online && text != NULL && *text != '\0')
		stanza_add_text_child(p, "status", text);
	if (online)
		disco_add_caps(p, ctx->contact_caps);
	router_send(router, p);
}

/* C showed a sign of life: an away text learned from an automatic reply
 * no longer holds. true if there was one. */
static bool stirred(struct contact *c)
{
	if (c->auto_away == NULL)
		return false;
	g_clear_pointer(&c->auto_away, g_free);
	c->away_test = 0;
	return true;
}

void contacts_on_activity(struct session *s, const char *legacy_name)
{
	struct contact *c = contact_get(s, legacy_name, false);
	if (c != NULL && stirred(c))
		contact_send_presence(s, c, NULL);
}

void contacts_on_sending(struct session *s, const char *legacy_name, guint32 seq)
{
	struct contact *c = contact_get(s, legacy_name, false);
	if (c != NULL && c->auto_away != NULL && c->away_test == 0)
		c->away_test = seq;
}

void contacts_on_delivered(struct session *s, const char *legacy_name, guint32 seq)
{
	struct contact *c = contact_get(s, legacy_name, false);
	if (c == NULL || c->away_test == 0 || seq < c->away_test)
		return;
	g_debug("contacts: %s: '%s' is back (no automatic reply to message %u)", session_jid(s),
	        legacy_name, seq);
	if (stirred(c))
		contact_send_presence(s, c, NULL);
}

void contacts_on_absent(struct session *s, const char *legacy_name)
{
	struct contact *c = contact_get(s, legacy_name, false);
	if (c != NULL && stirred(c))
		contact_send_presence(s, c, NULL);
}

void contacts_on_buddy_away(void *session, const struct worker_msg_buddy_away *m)
{
	struct session *s = session;
	struct contact *c = contact_get(s, m->name, true);
	g_autofree char *text = markup_to_text(m->message);
	g_strstrip(text);
	c->away_test = 0; /* confirmed: the next message tests it again */
	if (g_strcmp0(c->auto_away, text) == 0)
		return;
	g_free(c->auto_away);
	c->auto_away = g_steal_pointer(&text);
	g_debug("contacts: %s: '%s' is away (an automatic reply)", session_jid(s), m->name);
	contact_send_presence(s, c, NULL);
}

void contacts_all_offline(struct session *s)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, session_contacts(s)->by_name);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct contact *c = value;
		bool was_away = stirred(c);
		if (c->status == WORKER_STATUS_OFFLINE && !was_away)
			continue;
		c->status = WORKER_STATUS_OFFLINE;
		contact_send_presence(s, c, NULL);
	}
}

/* Asks the legacy side to list C (again: harmless). */
static void add_on_legacy_side(struct session *s, struct contact *c)
{
	(void)LEGACY_SEND(session_ctx(s)->legacy, add_buddy, .account = session_account(s),
	                  .name = c->legacy_name, .alias = c->alias);
}

void contacts_push_buddies(struct session *s)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, session_contacts(s)->by_name);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct contact *c = value;
		if (c->buddy)
			add_on_legacy_side(s, c);
	}
}

/* Makes C a buddy: stored, and in the user's roster. */
static void make_buddy(struct session *s, struct contact *c)
{
	if (c->buddy)
		return;
	set_buddy(session_contacts(s), c, true);
	contact_store(s, c);
	roster_add(s, c);
}

void contacts_on_buddy_status(void *session, const struct worker_msg_buddy_status *m)
{
	struct session *s = session;
	struct contact *c = contact_get(s, m->name, true);
	if (*m->alias != '\0' && g_strcmp0(m->alias, m->name) != 0 &&
	    g_strcmp0(m->alias, c->alias) != 0) {
		g_free(c->alias);
		c->alias = g_strdup(m->alias);
	}
	bool changed = c->status != m->status || g_strcmp0(c->message, m->message) != 0;
	/* a new status is a sign of life: an automatic reply's away ends */
	if (changed)
		(void)stirred(c);
	c->status = m->status;
	g_free(c->message);
	c->message = g_strdup(m->message);
	make_buddy(s, c);
	if (changed)
		contact_send_presence(s, c, NULL);
}

void contacts_on_buddy_removed(void *session, const struct worker_msg_buddy_removed *m)
{
	struct session *s = session;
	struct contact *c = contact_get(s, m->name, false);
	if (c == NULL || !c->buddy)
		return;
	set_buddy(session_contacts(s), c, false);
	c->status = WORKER_STATUS_OFFLINE;
	unstore(s, c);
	roster_remove(s, c);
}

void contacts_on_auth_request(void *session, const struct worker_msg_auth_request *m)
{
	struct session *s = session;
	const struct gateway_ctx *ctx = session_ctx(s);
	struct contact *c = contact_get(s, m->name, true);
	if (c->jid == NULL) {
		(void)LEGACY_SEND(ctx->legacy, auth_reply, .account = session_account(s),
		                  .request = m->request, .granted = false);
		return;
	}
	c->auth_request = m->request;
	out_subscribe(ctx->router, c->jid, session_jid(s), m->alias, m->message);
}

static void answer_auth(struct session *s, struct contact *c, bool granted)
{
	if (c->auth_request == 0)
		return;
	(void)LEGACY_SEND(session_ctx(s)->legacy, auth_reply, .account = session_account(s),
	                  .request = c->auth_request, .granted = granted);
	c->auth_request = 0;
}

/* true when the user may add one more contact ([limits] max_contacts);
 * otherwise the subscribe P is answered with an error saying so, and
 * refused (unsubscribed) so that it does not stay pending. */
static bool room_for_buddy(struct session *s, struct contact *c, const struct stanza *p)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	struct contacts *cs = session_contacts(s);
	guint buddies = g_hash_table_size(cs->by_name) - cs->others.length;
	guint bound = ctx->settings->max_contacts;
	if (buddies < bound)
		return true;
	g_info("contacts: %s: %u contacts, the most allowed; not adding '%s'", session_jid(s),
	       buddies, c->legacy_name);
	g_autofree char *why =
	    g_strdup_printf("you have %u contacts at %s, the most it keeps for one user; remove "
	                    "one to add another",
	                    buddies, ctx->jid);
	router_send_error(ctx->router, p, "resource-constraint", why);
	out_presence(ctx->router, c->jid, session_jid(s), "unsubscribed");
	return false;
}

void contacts_on_user_presence(struct session *s, struct contact *c, const struct stanza *p)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *type = stanza_get_type(p);
	const char *from = stanza_get_from(p);
	if (c->jid == NULL || type == NULL)
		return;
	roster_on_user_presence(s, c, type); /* subscribe(d): it is in the roster */
	if (strcmp(type, "probe") == 0) {
		contact_send_presence(s, c, from);
	} else if (strcmp(type, "subscribe") == 0) {
		/* The user adds the contact: add it on the legacy side too. Sent
		 * even for a known buddy: it may be on the legacy list without our
		 * subscription to it (an XMPP contact that only asked for ours),
		 * and adding again is harmless. */
		if (!c->buddy && !room_for_buddy(s, c, p))
			return;
		if (!c->buddy) {
			set_buddy(session_contacts(s), c, true);
			contact_store(s, c);
		}
		if (session_state(s) == SESSION_ONLINE)
			add_on_legacy_side(s, c);
		out_presence(ctx->router, c->jid, session_jid(s), "subscribed");
		contact_send_presence(s, c, NULL);
	} else if (strcmp(type, "subscribed") == 0) {
		answer_auth(s, c, true);
	} else if (strcmp(type, "unsubscribed") == 0) {
		answer_auth(s, c, false);
	} else if (strcmp(type, "unsubscribe") == 0) {
		/* The user removed the contact: remove it on the legacy side. */
		if (c->buddy) {
			set_buddy(session_contacts(s), c, false);
			c->flags = 0;
			unstore(s, c);
			if (session_state(s) == SESSION_ONLINE)
				(void)LEGACY_SEND(ctx->legacy, remove_buddy,
				                  .account = session_account(s),
				                  .name = c->legacy_name);
		}
		out_presence(ctx->router, c->jid, session_jid(s), "unsubscribed");
		out_presence(ctx->router, c->full, session_jid(s), "unavailable");
	}
}

void contacts_remove_all(struct session *s)
{
	contacts_load(s);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, session_contacts(s)->by_name);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct contact *c = value;
		if (c->buddy)
			roster_remove(s, c);
	}
}

/* ---- disco of contact JIDs ----------------------------------------------------------- */

/* Whether disco of TO is the contacts' to answer: DISCO_PASS when TO is no
 * contact JID, DISCO_REFUSED when the sender may not use the transport
 * (answered), DISCO_NOT_FOUND for a node (contacts have none) or a
 * localpart that stands for no name, else DISCO_ANSWER with *NAME set. */
static enum disco_answer contact_entity(const struct gateway_ctx *ctx, const struct stanza *iq,
                                        const struct jid *to, const char *node, char **name)
{
	struct jid *sender =
	    jid_parse(stanza_get_from(iq) != NULL ? stanza_get_from(iq) : "", NULL);
	enum address_kind kind =
	    address_classify(ctx->address, to, sender != NULL ? jid_bare(sender) : NULL);
	jid_free(sender);
	if (kind != ADDRESS_CONTACT && kind != ADDRESS_CONTACT_RESOURCE)
		return DISCO_PASS;
	struct jid *from = address_check_sender(ctx->address, ctx->router, iq);
	if (from == NULL)
		return DISCO_REFUSED;
	/* Servers case-fold the localpart on the way here: a contact the user
	 * knows is named as the legacy network spells it. */
	struct session *s = sessions_get(ctx->sessions, jid_bare(from), false);
	const struct contact *c = s != NULL ? lookup_local(s, jid_local(to)) : NULL;
	jid_free(from);
	*name =
	    c != NULL ? g_strdup(c->legacy_name) : address_legacy_name(ctx->address, jid_local(to));
	return *name == NULL || node != NULL ? DISCO_NOT_FOUND : DISCO_ANSWER;
}

/* A contact JID is an IM client of the legacy network that takes chat
 * states (relayed both ways). The bare JID is named by the legacy name;
 * full JIDs all answer the same (full_jid_info), which their caps hash. */
static enum disco_answer contact_info(void *data, const struct stanza *iq, const struct jid *to,
                                      const char *node, struct disco_info *info)
{
	g_autofree char *name = NULL;
	enum disco_answer a = contact_entity(data, iq, to, node, &name);
	if (a == DISCO_ANSWER && jid_resource(to) != NULL &&
	    strcmp(jid_resource(to), GATEWAY_RESOURCE) != 0)
		return DISCO_NOT_FOUND; /* no such resource: contacts have one */
	if (a == DISCO_ANSWER && jid_resource(to) != NULL) {
		full_jid_info(data, info);
	} else if (a == DISCO_ANSWER) {
		disco_info_add_identity(info, "client", "pc", name);
		disco_info_add_feature(info, NS_DISCO_INFO);
		disco_info_add_feature(info, NS_CHATSTATES);
	}
	return a;
}

/* A contact has no items. */
static enum disco_answer contact_items(void *data, const struct stanza *iq, const struct jid *to,
                                       const char *node, struct disco_items *items)
{
	g_autofree char *name = NULL;
	return contact_entity(data, iq, to, node, &name);
}

static const struct disco_provider contact_disco = {
    .info = contact_info,
    .items = contact_items,
};

void contacts_register_disco(const struct gateway_ctx *ctx)
{
	disco_add_provider(ctx->disco, &contact_disco, (void *)ctx);
}
