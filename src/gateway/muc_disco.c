/* muc_disco: what rooms say about themselves — room and occupant disco
 * (XEP-0030/0045, even before a join), the transport's room list (a
 * cached LIST_ROOMS, paged with XEP-0059), XEP-0410 self-ping of occupant
 * JIDs, and the affiliation lists clients ask for after a join. */
#include "config.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define NS_RSM "http://jabber.org/protocol/rsm" /* XEP-0059 */
#define NS_ROOMINFO "http://jabber.org/protocol/muc#roominfo"
/* The room list is asked of the network at most this often. */
#define LIST_REFRESH_SECONDS (10 * 60)
/* A listing not done in this long is given up (its account may have gone
 * quiet): the next request asks again. */
#define LIST_BUILD_SECONDS 90
/* A request that came while the first listing runs waits this long. */
#define LIST_WAIT_SECONDS 20
#define PAGE_DEFAULT 100 /* items of a page without <max/> */
#define PAGE_MAX 500     /* the most items of a page */
#define LIST_WAITING_MAX 64

struct listed {
	char *name;  /* legacy name */
	char *fold;  /* its case-folded form: the order of the list */
	char *users; /* "" unknown */
	char *topic;
};

/* A PROBE_ROOM asked (or answered) for one user and name. */
struct probe {
	struct muc_list *ml;
	char *key;          /* "user\nfolded name" */
	bool answered;      /* KIND is known (or the wait ran out: UNKNOWN) */
	guint32 kind;       /* WORKER_ROOM_* */
	gint64 at_us;       /* when answered */
	GPtrArray *waiting; /* struct stanza *: disco#info requests held for it */
	guint timer;
};

/* One user's room list: what the network lists depends on who asks (IRC
 * shows a secret or private channel to its members only), so each
 * session has its own, dropped when the session ends. */
struct user_list {
	struct muc_list *ml;
	char *user;          /* bare JID */
	GPtrArray *rooms;    /* struct listed, sorted by fold: the last complete listing */
	GPtrArray *building; /* the listing under way, or NULL */
	gint64 listed_us;    /* when the last listing was asked (0: never) */
	GPtrArray *waiting;  /* struct stanza *: requests waiting for the first listing */
	guint wait_timer;
};

struct muc_list {
	const struct gateway_ctx *ctx;
	GHashTable *probes; /* key -> struct probe * (owned) */
	GHashTable *lists;  /* bare JID -> struct user_list * (owned) */
};

static void listed_free(gpointer data)
{
	struct listed *l = data;
	g_free(l->name);
	g_free(l->fold);
	g_free(l->users);
	g_free(l->topic);
	g_free(l);
}

static void user_list_free(gpointer data)
{
	struct user_list *ul = data;
	g_clear_handle_id(&ul->wait_timer, g_source_remove);
	g_ptr_array_unref(ul->waiting);
	g_ptr_array_unref(ul->rooms);
	g_clear_pointer(&ul->building, g_ptr_array_unref);
	g_free(ul->user);
	g_free(ul);
}

static gint compare_listed(gconstpointer a, gconstpointer b)
{
	const struct listed *x = *(const struct listed *const *)a;
	const struct listed *y = *(const struct listed *const *)b;
	return strcmp(x->fold, y->fold);
}

#define PROBE_WAIT_SECONDS 10
#define PROBE_KEEP_SECONDS (10 * 60)
#define PROBES_MAX 4096

static void probe_free(gpointer data)
{
	struct probe *p = data;
	g_clear_handle_id(&p->timer, g_source_remove);
	g_ptr_array_unref(p->waiting);
	g_free(p->key);
	g_free(p);
}

static char *probe_key(const char *user, const char *name)
{
	g_autofree char *folded = g_utf8_casefold(name, -1);
	return g_strconcat(user, "\n", folded, NULL);
}

/* The held requests go through the router again: now that the answer is
 * known they are answered as a room's or a contact's. */
static void probe_settle(struct probe *p, guint32 kind)
{
	g_clear_handle_id(&p->timer, g_source_remove);
	p->answered = true;
	p->kind = kind;
	p->at_us = g_get_monotonic_time();
	GPtrArray *held = p->waiting;
	p->waiting = g_ptr_array_new_with_free_func((GDestroyNotify)stanza_free);
	for (guint i = 0; i < held->len; i++)
		router_dispatch(p->ml->ctx->router, g_ptr_array_steal_index(held, i--));
	g_ptr_array_unref(held);
}

static gboolean probe_timeout(gpointer data)
{
	struct probe *p = data;
	p->timer = 0;
	probe_settle(p, WORKER_ROOM_UNKNOWN); /* answered as a contact */
	return G_SOURCE_REMOVE;
}

/* The sender's bare JID of STANZA, NULL if none. Caller frees. */
static char *sender_bare(const struct stanza *stanza)
{
	const char *from = stanza_get_from(stanza);
	return from != NULL ? jid_bare_of(from) : NULL;
}

/* The session of STANZA's sender, or NULL. */
static struct session *sender_session(const struct gateway_ctx *ctx, const struct stanza *stanza)
{
	g_autofree char *bare = sender_bare(stanza);
	return bare != NULL ? sessions_get(ctx->sessions, bare, false) : NULL;
}

/* The room TO names, for the sender of IQ (NULL: not joined or unknown). */
static struct room *room_of(const struct gateway_ctx *ctx, const struct stanza *iq,
                            const struct jid *to)
{
	struct session *s = sender_session(ctx, iq);
	if (s == NULL)
		return NULL;
	g_autofree char *name = jid_unescape_local(jid_local(to));
	return rooms_find(s, name);
}

static enum address_kind kind_of(const struct gateway_ctx *ctx, const struct stanza *iq,
                                 const struct jid *to)
{
	g_autofree char *bare = sender_bare(iq);
	return address_classify(ctx->address, to, bare);
}

/* For disco#info IQ to contact TO of a protocol whose rooms look like
 * contacts (prpl-jabber's room@server): true when what it is is known (a
 * room is then noted for the sender, so TO classifies as one); false when
 * IQ was held for a PROBE_ROOM of the sender's online account (at most
 * PROBE_WAIT_SECONDS; answers are kept PROBE_KEEP_SECONDS). */
static bool probed(struct muc_list *ml, const struct stanza *iq, const struct jid *to)
{
	const struct gateway_ctx *ctx = ml->ctx;
	if (address_rooms_by_prefix(ctx->address))
		return true;
	g_autofree char *name = jid_unescape_local(jid_local(to));
	struct session *s = sender_session(ctx, iq);
	if (name == NULL || strchr(name, '@') == NULL || s == NULL ||
	    session_state(s) != SESSION_ONLINE)
		return true;
	g_autofree char *key = probe_key(session_jid(s), name);
	struct probe *p = g_hash_table_lookup(ml->probes, key);
	gint64 now = g_get_monotonic_time();
	if (p != NULL && p->answered &&
	    now - p->at_us < (gint64)PROBE_KEEP_SECONDS * G_USEC_PER_SEC) {
		if (p->kind == WORKER_ROOM_ROOM)
			address_note_room(ctx->address, session_jid(s), name);
		return true;
	}
	if (p == NULL || p->answered) {
		if (p == NULL && g_hash_table_size(ml->probes) >= PROBES_MAX)
			g_hash_table_remove_all(ml->probes);
		if (!LEGACY_SEND(ctx->legacy, probe_room, .account = session_account(s),
		                 .room = name))
			return true;
		if (p == NULL) {
			p = g_new0(struct probe, 1);
			p->ml = ml;
			p->key = g_strdup(key);
			p->waiting = g_ptr_array_new_with_free_func((GDestroyNotify)stanza_free);
			g_hash_table_insert(ml->probes, p->key, p);
		}
		p->answered = false;
		p->timer = g_timeout_add_seconds(PROBE_WAIT_SECONDS, probe_timeout, p);
	}
	g_ptr_array_add(p->waiting, stanza_copy(iq));
	return false;
}

void muc_on_room_info(void *session, const struct worker_msg_room_info *m)
{
	struct session *s = session;
	struct muc_list *ml = session_ctx(s)->muc_list;
	g_autofree char *key = probe_key(session_jid(s), m->room);
	struct probe *p = g_hash_table_lookup(ml->probes, key);
	if (p == NULL || p->answered)
		return;
	if (m->kind == WORKER_ROOM_ROOM)
		address_note_room(session_ctx(s)->address, session_jid(s), m->room);
	probe_settle(p, m->kind);
}

static void add_form_field(struct stanza *x, const char *var, const char *value)
{
	struct stanza *f = stanza_add_child(x, "field", NULL);
	stanza_set_attr(f, "var", var);
	stanza_add_text_child(f, "value", value);
}

/* ---- disco#info and #items of rooms and occupants --------------------------------- */

static enum disco_answer room_info(void *data, const struct stanza *iq, const struct jid *to,
                                   const char *node, struct disco_info *info)
{
	struct muc_list *ml = data;
	const struct gateway_ctx *ctx = ml->ctx;
	enum address_kind kind = kind_of(ctx, iq, to);
	if (kind == ADDRESS_CONTACT && node == NULL && !probed(ml, iq, to))
		return DISCO_REFUSED; /* held until the legacy side says */
	if (kind != ADDRESS_ROOM && kind != ADDRESS_ROOM_OCCUPANT)
		return DISCO_PASS;
	if (node != NULL)
		return DISCO_NOT_FOUND;
	struct room *r = room_of(ctx, iq, to);
	const char *full = stanza_get_from(iq);
	if (kind == ADDRESS_ROOM_OCCUPANT) {
		/* XEP-0045 §6.7: a non-occupant gets bad-request; an occupant
		 * what the transport knows (no pass-through to legacy users) */
		if (r == NULL || full == NULL || !g_hash_table_contains(r->joined, full) ||
		    room_occupant(r, jid_resource(to)) == NULL) {
			router_send_error(ctx->router, iq, "bad-request",
			                  "occupants are described to occupants only");
			return DISCO_REFUSED;
		}
		disco_info_add_identity(info, "client", "pc", jid_resource(to));
		disco_info_add_feature(info, NS_DISCO_INFO);
		return DISCO_ANSWER;
	}
	g_autofree char *name = jid_unescape_local(jid_local(to));
	bool irc = address_rooms_by_prefix(ctx->address);
	disco_info_add_identity(info, "conference", irc ? "irc" : "text",
	                        r != NULL ? r->name : name);
	static const char *const features[] = {
	    NS_DISCO_INFO,
	    NS_MUC,
	    NS_MUC "#stable_id",
	    NS_MUC "#self-ping-optimization",
	    "muc_open",
	    "muc_semianonymous",
	    "muc_temporary",
	    "muc_unmoderated",
	    /* XEP-0359: every groupchat message from the room carries a
	     * stanza-id by it (Conversations and Dino read one only when the
	     * room says so: MessageParser.java, message_processor.vala) */
	    NS_SID,
	};
	for (size_t i = 0; i < G_N_ELEMENTS(features); i++)
		disco_info_add_feature(info, features[i]);
	if (r != NULL && *r->key != '\0')
		disco_info_add_feature(info, "muc_passwordprotected");
	else
		disco_info_add_feature(info, "muc_unsecured");
	struct stanza *x = stanza_new_ns("x", NS_DATA);
	stanza_set_attr(x, "type", "result");
	struct stanza *ft = stanza_add_child(x, "field", NULL);
	stanza_set_attr(ft, "var", "FORM_TYPE");
	stanza_set_attr(ft, "type", "hidden");
	stanza_add_text_child(ft, "value", NS_ROOMINFO);
	if (r != NULL && r->state == ROOM_JOINED) {
		add_form_field(x, "muc#roominfo_subject", r->topic);
		g_autofree char *n = g_strdup_printf("%u", g_hash_table_size(r->occupants));
		add_form_field(x, "muc#roominfo_occupants", n);
	}
	disco_info_add_form(info, x);
	return DISCO_ANSWER;
}

static enum disco_answer room_items(void *data, const struct stanza *iq, const struct jid *to,
                                    const char *node, struct disco_items *items)
{
	struct muc_list *ml = data;
	enum address_kind kind = kind_of(ml->ctx, iq, to);
	if (kind != ADDRESS_ROOM && kind != ADDRESS_ROOM_OCCUPANT)
		return DISCO_PASS;
	/* occupants are not disclosed (XEP-0045 §6.5): the empty list */
	return node != NULL ? DISCO_NOT_FOUND : DISCO_ANSWER;
}

static const struct disco_provider room_disco = {
    .info = room_info,
    .items = room_items,
};

/* ---- the room list ----------------------------------------------------------------- */

/* Answers IQ (a disco#items get of the transport) from ROOMS (a cached
 * list), the page its <set/> asks for (XEP-0059). */
static void answer_list(const struct gateway_ctx *ctx, GPtrArray *rooms, const struct stanza *iq)
{
	const struct stanza *q = stanza_find_child(iq, "query", NS_DISCO_ITEMS);
	const struct stanza *set = q != NULL ? stanza_find_child(q, "set", NS_RSM) : NULL;
	guint n = rooms->len;
	guint max = PAGE_DEFAULT;
	guint start = 0;
	if (set != NULL) {
		g_autofree char *max_s = stanza_get_child_text(set, "max", NULL);
		g_autofree char *after = stanza_get_child_text(set, "after", NULL);
		g_autofree char *before = stanza_get_child_text(set, "before", NULL);
		g_autofree char *index = stanza_get_child_text(set, "index", NULL);
		if (max_s != NULL) {
			guint64 v = 0;
			if (!g_ascii_string_to_unsigned(max_s, 10, 0, G_MAXUINT, &v, NULL)) {
				router_send_error(ctx->router, iq, "bad-request",
				                  "<max/> is no number");
				return;
			}
			max = MIN((guint)v, PAGE_MAX);
		}
		/* an item's position: the first whose fold is above KEY */
		if (after != NULL) {
			g_autofree char *key = g_utf8_casefold(after, -1);
			while (start < n &&
			       strcmp(((struct listed *)g_ptr_array_index(rooms, start))->fold,
			              key) <= 0)
				start++;
		} else if (before != NULL) {
			guint end = n;
			if (*before != '\0') {
				g_autofree char *key = g_utf8_casefold(before, -1);
				end = 0;
				while (
				    end < n &&
				    strcmp(((struct listed *)g_ptr_array_index(rooms, end))->fold,
				           key) < 0)
					end++;
			}
			start = end > max ? end - max : 0;
			max = MIN(max, end - start);
		} else if (index != NULL) {
			guint64 v = 0;
			if (!g_ascii_string_to_unsigned(index, 10, 0, G_MAXUINT, &v, NULL)) {
				router_send_error(ctx->router, iq, "bad-request",
				                  "<index/> is no number");
				return;
			}
			start = MIN((guint)v, n);
		}
	}
	guint end = MIN(n, start + max);
	struct stanza *reply = stanza_new_reply(iq, "result");
	struct stanza *rq = stanza_add_child(reply, "query", NS_DISCO_ITEMS);
	for (guint i = start; i < end; i++) {
		const struct listed *l = g_ptr_array_index(rooms, i);
		g_autofree char *local = jid_escape_local(l->name);
		g_autofree char *jid = g_strdup_printf("%s@%s", local, ctx->jid);
		g_autofree char *label =
		    *l->users != '\0' && *l->topic != '\0'
		        ? g_strdup_printf("%s (%s): %s", l->name, l->users, l->topic)
		    : *l->users != '\0' ? g_strdup_printf("%s (%s)", l->name, l->users)
		                        : g_strdup(l->name);
		struct stanza *item = stanza_add_child(rq, "item", NULL);
		stanza_set_attr(item, "jid", jid);
		stanza_set_attr(item, "name", label);
	}
	if (set != NULL || n > end - start) {
		struct stanza *rs = stanza_add_child(rq, "set", NS_RSM);
		if (end > start) {
			struct stanza *first = stanza_add_text_child(
			    rs, "first", ((struct listed *)g_ptr_array_index(rooms, start))->name);
			g_autofree char *idx = g_strdup_printf("%u", start);
			stanza_set_attr(first, "index", idx);
			stanza_add_text_child(
			    rs, "last", ((struct listed *)g_ptr_array_index(rooms, end - 1))->name);
		}
		g_autofree char *count = g_strdup_printf("%u", n);
		stanza_add_text_child(rs, "count", count);
	}
	router_send(ctx->router, reply);
}

static void answer_waiting(struct user_list *ul)
{
	g_clear_handle_id(&ul->wait_timer, g_source_remove);
	for (guint i = 0; i < ul->waiting->len; i++)
		answer_list(ul->ml->ctx, ul->rooms, g_ptr_array_index(ul->waiting, i));
	g_ptr_array_set_size(ul->waiting, 0);
}

static gboolean wait_over(gpointer data)
{
	struct user_list *ul = data;
	ul->wait_timer = 0;
	answer_waiting(ul); /* with what is there */
	return G_SOURCE_REMOVE;
}

static enum disco_answer list_items(void *data, const struct stanza *iq, const struct jid *to,
                                    const char *node, struct disco_items *items)
{
	struct muc_list *ml = data;
	const struct gateway_ctx *ctx = ml->ctx;
	struct session *s = sender_session(ctx, iq);
	if (s == NULL) {
		/* a stranger (unregistered, another domain): nobody's list */
		g_autoptr(GPtrArray) none = g_ptr_array_new();
		answer_list(ctx, none, iq);
		return DISCO_REFUSED;
	}
	struct user_list *ul = g_hash_table_lookup(ml->lists, session_jid(s));
	if (ul == NULL) {
		ul = g_new0(struct user_list, 1);
		ul->ml = ml;
		ul->user = g_strdup(session_jid(s));
		ul->rooms = g_ptr_array_new_with_free_func(listed_free);
		ul->waiting = g_ptr_array_new_with_free_func((GDestroyNotify)stanza_free);
		g_hash_table_insert(ml->lists, ul->user, ul);
	}
	gint64 now = g_get_monotonic_time();
	if (ul->building != NULL &&
	    now - ul->listed_us >= (gint64)LIST_BUILD_SECONDS * G_USEC_PER_SEC) {
		g_info("rooms: %s: the room list was not done in %d s; asked again", session_jid(s),
		       LIST_BUILD_SECONDS);
		g_clear_pointer(&ul->building, g_ptr_array_unref);
		ul->listed_us = 0;
	}
	bool stale = ul->listed_us == 0 ||
	             now - ul->listed_us >= (gint64)LIST_REFRESH_SECONDS * G_USEC_PER_SEC;
	if (session_state(s) == SESSION_ONLINE && stale && ul->building == NULL) {
		if (LEGACY_SEND(ctx->legacy, list_rooms, .account = session_account(s))) {
			ul->listed_us = now;
			ul->building = g_ptr_array_new_with_free_func(listed_free);
		}
	}
	if (ul->building != NULL && ul->rooms->len == 0 && ul->waiting->len < LIST_WAITING_MAX) {
		/* the first listing runs: answer after it (bounded) */
		g_ptr_array_add(ul->waiting, stanza_copy(iq));
		if (ul->wait_timer == 0)
			ul->wait_timer = g_timeout_add_seconds(LIST_WAIT_SECONDS, wait_over, ul);
		return DISCO_REFUSED;
	}
	answer_list(ctx, ul->rooms, iq);
	return DISCO_REFUSED; /* answered here, with its <set/> */
}

void muc_list_session_ended(struct session *s)
{
	struct muc_list *ml = session_ctx(s)->muc_list;
	struct user_list *ul = ml != NULL ? g_hash_table_lookup(ml->lists, session_jid(s)) : NULL;
	if (ul == NULL)
		return;
	answer_waiting(ul); /* with what is there: nothing waits unanswered */
	g_hash_table_remove(ml->lists, session_jid(s));
}

static const struct disco_provider list_disco = {
    .items = list_items,
};

void muc_on_room_list(void *session, const struct worker_msg_room_list *m)
{
	struct session *s = session;
	struct muc_list *ml = session_ctx(s)->muc_list;
	struct user_list *ul = g_hash_table_lookup(ml->lists, session_jid(s));
	if (ul == NULL || ul->building == NULL)
		return; /* not asked (or given up) */
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, m->rooms);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		if (ul->building->len >= WORKER_ROOM_LIST_MAX)
			break;
		g_autofree char *local = jid_escape_local(key);
		struct jid *check =
		    local != NULL ? jid_new(local, session_ctx(s)->jid, NULL, NULL) : NULL;
		if (check == NULL) {
			g_debug("rooms: '%s' in the room list can be no room JID",
			        (const char *)key);
			continue;
		}
		jid_free(check);
		struct listed *l = g_new0(struct listed, 1);
		l->name = g_strdup(key);
		l->fold = g_utf8_casefold(key, -1);
		const char *tab = strchr(value, '\t');
		l->users = tab != NULL ? g_strndup(value, (gsize)(tab - (const char *)value))
		                       : g_strdup(value);
		l->topic = g_strdup(tab != NULL ? tab + 1 : "");
		g_ptr_array_add(ul->building, l);
		address_note_room(session_ctx(s)->address, session_jid(s), key);
	}
	if (!m->done)
		return;
	g_ptr_array_sort(ul->building, compare_listed);
	g_ptr_array_unref(ul->rooms);
	ul->rooms = g_steal_pointer(&ul->building);
	g_info("rooms: %s: the room list has %u rooms%s", session_jid(s), ul->rooms->len,
	       m->complete ? "" : " (cut short)");
	answer_waiting(ul);
}

/* ---- self-ping and the affiliation lists ------------------------------------------ */

static enum router_result on_ping(struct router *r, const struct stanza *iq, void *data)
{
	struct muc_list *ml = data;
	const struct gateway_ctx *ctx = ml->ctx;
	const char *to_s = stanza_get_to(iq);
	struct jid *to = to_s != NULL ? jid_parse(to_s, NULL) : NULL;
	if (to == NULL)
		return ROUTER_PASS;
	enum address_kind kind = kind_of(ctx, iq, to);
	if (kind != ADDRESS_ROOM && kind != ADDRESS_ROOM_OCCUPANT) {
		jid_free(to);
		return ROUTER_PASS;
	}
	struct room *room = room_of(ctx, iq, to);
	const char *full = stanza_get_from(iq);
	/* XEP-0410: joined as that very occupant JID */
	bool joined = room != NULL && full != NULL && g_hash_table_contains(room->joined, full) &&
	              (kind == ADDRESS_ROOM || room_is_us(room, jid_resource(to)));
	jid_free(to);
	if (g_strcmp0(stanza_get_type(iq), "get") != 0)
		router_send_error(r, iq, "bad-request", "a ping is a get");
	else if (joined)
		router_send_result(r, iq);
	else
		router_send_error(r, iq, "not-acceptable", "you are not in this room");
	return ROUTER_HANDLED;
}

/* muc#admin and muc#owner to a room: the legacy network's lists are not
 * the transport's to give (Dino asks after every join: always answered). */
static enum router_result on_admin(struct router *r, const struct stanza *iq, void *data)
{
	struct muc_list *ml = data;
	const char *to_s = stanza_get_to(iq);
	struct jid *to = to_s != NULL ? jid_parse(to_s, NULL) : NULL;
	if (to == NULL)
		return ROUTER_PASS;
	enum address_kind kind = kind_of(ml->ctx, iq, to);
	jid_free(to);
	if (kind != ADDRESS_ROOM && kind != ADDRESS_ROOM_OCCUPANT)
		return ROUTER_PASS;
	const char *type = stanza_get_type(iq);
	if (g_strcmp0(type, "get") == 0 || g_strcmp0(type, "set") == 0)
		router_send_error(r, iq, "forbidden",
		                  "the legacy room's lists and settings are not available here");
	return ROUTER_HANDLED;
}

struct muc_list *muc_list_new(const struct gateway_ctx *ctx)
{
	struct muc_list *ml = g_new0(struct muc_list, 1);
	ml->ctx = ctx;
	ml->lists = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, user_list_free);
	ml->probes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, probe_free);
	disco_add_provider(ctx->disco, &room_disco, ml);
	disco_set_self_items(ctx->disco, &list_disco, ml);
	/* a gateway that lists rooms: the gateway identity and jabber:iq:gateway
	 * stay (Conversations then keeps 1:1 chats apart from rooms) */
	disco_add_identity(ctx->disco, "conference",
	                   address_rooms_by_prefix(ctx->address) ? "irc" : "text",
	                   regform_protocol_name(ctx->form));
	disco_add_feature(ctx->disco, NS_MUC);
	router_add_iq_handler(ctx->router, NS_PING, on_ping, ml);
	router_add_iq_handler(ctx->router, NS_MUC_ADMIN, on_admin, ml);
	router_add_iq_handler(ctx->router, NS_MUC_OWNER, on_admin, ml);
	return ml;
}

void muc_list_free(struct muc_list *ml)
{
	if (ml == NULL)
		return;
	g_hash_table_unref(ml->lists);
	g_hash_table_unref(ml->probes);
	g_free(ml);
}
