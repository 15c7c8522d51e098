/* rooms: a session's group chats — which rooms the user is in, with which
 * of their resources, who else is there, and what the legacy side says
 * about them (CHAT_* events), turned into XEP-0045 presence and messages
 * (groupchat.md §4, §6, §7). One legacy join serves every resource of the
 * user; the XMPP side of each join is answered here once the legacy side
 * has answered. What users send to rooms is muc.c's; disco is muc_disco.c's.
 */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/markup.h"

struct rooms {
	struct session *s;
	GHashTable *by_name;        /* folded legacy name -> struct room * (owned) */
	struct room_echoes *echoes; /* room_echoes.c: what the user said, not yet reflected */
	GHashTable *leaving;        /* folded name -> gint64 * deadline (µs): our LEAVE_CHATs */
	GHashTable *asked;  /* folded name asked -> folded network name (its other spelling) */
	guint64 stanza_ids; /* for stanza-id: unique within the run */
};

static void occupant_free(gpointer data)
{
	struct occupant *o = data;
	g_free(o->nick);
	g_free(o->pm);
	g_free(o);
}

static void room_join_free(gpointer data)
{
	struct room_join *j = data;
	g_free(j->full);
	g_free(j->id);
	g_free(j->nick);
	g_free(j);
}

static GHashTable *occupants_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, occupant_free);
}

static void room_free(gpointer data)
{
	struct room *r = data;
	g_clear_handle_id(&r->timer, g_source_remove);
	g_free(r->name);
	g_free(r->asked);
	g_free(r->jid);
	g_free(r->key);
	g_free(r->nick);
	g_free(r->topic);
	g_free(r->topic_by);
	g_hash_table_unref(r->occupants);
	g_hash_table_unref(r->by_pm);
	g_hash_table_unref(r->pm_routes);
	g_clear_pointer(&r->before, g_hash_table_unref);
	g_hash_table_unref(r->joined);
	g_ptr_array_unref(r->pending);
	g_clear_handle_id(&r->nick_timer, g_source_remove);
	g_clear_handle_id(&r->subject_timer, g_source_remove);
	g_free(r->subject_from);
	g_free(r->subject_id);
	g_free(r->nick_from);
	g_free(r->nick_id);
	g_free(r->nick_new);
	g_free(r);
}

struct rooms *rooms_new(struct session *s)
{
	struct rooms *rs = g_new0(struct rooms, 1);
	rs->s = s;
	rs->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, room_free);
	rs->echoes = room_echoes_new(s);
	rs->leaving = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	rs->asked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return rs;
}

void rooms_free(struct rooms *rs)
{
	if (rs == NULL)
		return;
	room_echoes_free(rs->echoes);
	g_hash_table_unref(rs->leaving);
	g_hash_table_unref(rs->asked);
	g_hash_table_unref(rs->by_name);
	g_free(rs);
}

static struct router *router_of(const struct room *r)
{
	return session_ctx(r->rooms->s)->router;
}

struct room_echoes *rooms_echoes(struct session *s)
{
	return session_rooms(s)->echoes;
}

struct session *room_session(const struct room *r)
{
	return r->rooms->s;
}

struct room *rooms_find(struct session *s, const char *name)
{
	struct rooms *rs = session_rooms(s);
	g_autofree char *key = g_utf8_casefold(name, -1);
	struct room *r = g_hash_table_lookup(rs->by_name, key);
	if (r != NULL)
		return r;
	/* the name the user joined, which the network spelled otherwise */
	const char *real = g_hash_table_lookup(rs->asked, key);
	return real != NULL ? g_hash_table_lookup(rs->by_name, real) : NULL;
}

GList *rooms_list(struct session *s)
{
	return g_hash_table_get_values(session_rooms(s)->by_name);
}

guint rooms_count(struct session *s)
{
	return g_hash_table_size(session_rooms(s)->by_name);
}

struct room *rooms_add(struct session *s, const char *name, const char *jid, const char *key)
{
	struct rooms *rs = session_rooms(s);
	if (g_hash_table_size(rs->by_name) >= session_ctx(s)->settings->max_rooms)
		return NULL;
	struct room *r = g_new0(struct room, 1);
	r->rooms = rs;
	r->name = g_strdup(name);
	r->jid = g_strdup(jid);
	r->key = g_strdup(key != NULL ? key : "");
	r->topic = g_strdup("");
	r->occupants = occupants_new();
	r->by_pm = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	r->pm_routes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	r->joined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	r->pending = g_ptr_array_new_with_free_func(room_join_free);
	r->state = ROOM_JOINING;
	g_hash_table_insert(rs->by_name, g_utf8_casefold(name, -1), r);
	address_note_room(session_ctx(s)->address, session_jid(s), name);
	return r;
}

/* A LEAVE_CHAT's PART comes within this long (the worker's own bound on
 * a command is 30 s); at most this many are remembered. */
#define LEAVING_SECONDS 60
#define LEAVING_MAX 256

void rooms_note_leaving(struct session *s, const char *name)
{
	struct rooms *rs = session_rooms(s);
	gint64 now = g_get_monotonic_time();
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, rs->leaving);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		if (*(gint64 *)value <= now)
			g_hash_table_iter_remove(&it);
	}
	if (g_hash_table_size(rs->leaving) >= LEAVING_MAX) {
		g_debug("rooms: %s: too many rooms being left to remember %s", session_jid(s),
		        name);
		return;
	}
	gint64 *deadline = g_new(gint64, 1);
	*deadline = now + (gint64)LEAVING_SECONDS * G_USEC_PER_SEC;
	g_hash_table_replace(rs->leaving, g_utf8_casefold(name, -1), deadline);
}

/* true (once) when NAME's PART answers a LEAVE_CHAT of ours. */
static bool take_leaving(struct rooms *rs, const char *name)
{
	g_autofree char *key = g_utf8_casefold(name, -1);
	gint64 *deadline = g_hash_table_lookup(rs->leaving, key);
	bool ours = deadline != NULL && *deadline > g_get_monotonic_time();
	g_hash_table_remove(rs->leaving, key);
	return ours;
}

void rooms_remove(struct room *r)
{
	if (r->asked != NULL) {
		g_autofree char *asked = g_utf8_casefold(r->asked, -1);
		g_hash_table_remove(r->rooms->asked, asked);
	}
	g_autofree char *key = g_utf8_casefold(r->name, -1);
	g_hash_table_remove(r->rooms->by_name, key);
}

char *room_occupant_jid(const struct room *r, const char *nick)
{
	/* no nick: the room itself (a JID cannot end in an empty resource) */
	return *nick != '\0' ? g_strdup_printf("%s/%s", r->jid, nick) : g_strdup(r->jid);
}

const struct occupant *room_occupant(const struct room *r, const char *nick)
{
	g_autofree char *key = g_utf8_casefold(nick, -1);
	return g_hash_table_lookup(r->occupants, key);
}

bool room_is_us(const struct room *r, const char *nick)
{
	if (r->nick == NULL || nick == NULL)
		return false;
	g_autofree char *a = g_utf8_casefold(r->nick, -1);
	g_autofree char *b = g_utf8_casefold(nick, -1);
	return strcmp(a, b) == 0;
}

/* A topic: plain text already (libpurple strips IRC's codes from it),
 * made valid for XML: valid UTF-8, control characters but tab and line
 * feed as spaces. */
static char *plain_topic(const char *topic)
{
	char *s = g_utf8_make_valid(topic, -1);
	for (char *p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n')
			*p = ' ';
	}
	return s;
}

char *rooms_text(const char *html)
{
	/* XEP-0393: IRC's bold, italic and strike as *x*, _x_, ~x~ */
	return markup_to_styled(html);
}

/* Every joined resource leaves with CODES; the room is forgotten. */
static void drop_room(struct room *r, const char *const *codes, const char *actor,
                      const char *reason)
{
	GHashTableIter it;
	gpointer full;
	g_hash_table_iter_init(&it, r->joined);
	while (g_hash_table_iter_next(&it, &full, NULL))
		rooms_send_self_gone(r, full, codes, actor, reason);
	rooms_remove(r);
}

/* Each pending join is answered with an error: CONDITION and WHY, from
 * the occupant JID asked for, with the join's id and <x xmlns=muc/>. */
static void fail_pending(struct room *r, const char *type, const char *condition, const char *why)
{
	for (guint i = 0; i < r->pending->len; i++) {
		struct room_join *j = g_ptr_array_index(r->pending, i);
		g_autofree char *from = room_occupant_jid(r, j->nick);
		struct stanza *p = out_presence_new(router_of(r), from, j->full, "error");
		if (j->id != NULL)
			stanza_set_attr(p, "id", j->id);
		stanza_add_child(p, "x", NS_MUC);
		stanza_add_error(p, type, condition, why);
		router_send(router_of(r), p);
	}
	g_ptr_array_set_size(r->pending, 0);
}

void rooms_end_all(struct session *s, const char *code)
{
	struct rooms *rs = session_rooms(s);
	if (rs == NULL)
		return;
	const char *codes[] = {code, NULL};
	g_autoptr(GList) all = g_hash_table_get_values(rs->by_name);
	for (GList *l = all; l != NULL; l = l->next) {
		struct room *r = l->data;
		fail_pending(r, "wait", "remote-server-timeout", "the transport is stopping");
		GHashTableIter it;
		gpointer full;
		g_hash_table_iter_init(&it, r->joined);
		while (g_hash_table_iter_next(&it, &full, NULL))
			rooms_send_self_gone(r, full, codes, NULL, NULL);
	}
	/* what was said and not taken yet is answered, never sent again */
	room_echoes_fail(s, 0, "the transport left the room before the message was sent");
	g_hash_table_remove_all(rs->by_name);
}

/* ---- joining ----------------------------------------------------------------------- */

static gboolean join_timeout(gpointer data)
{
	struct room *r = data;
	r->timer = 0;
	g_info("rooms: %s: no answer to the join of %s in %u ms", session_jid(r->rooms->s), r->name,
	       session_ctx(r->rooms->s)->settings->room_join_ms);
	fail_pending(r, "wait", "remote-server-timeout",
	             "the legacy network did not answer the join");
	if (g_hash_table_size(r->joined) == 0) {
		rooms_remove(r);
	} else if (r->state == ROOM_REJOINING) {
		static const char *const codes[] = {"333", NULL};
		drop_room(r, codes, NULL, "the room could not be joined again");
	}
	return G_SOURCE_REMOVE;
}

void rooms_send_join(struct room *r, const char *nick)
{
	struct session *s = r->rooms->s;
	if (r->timer == 0)
		r->timer = g_timeout_add(session_ctx(s)->settings->room_join_ms, join_timeout, r);
	if (session_state(s) != SESSION_ONLINE)
		return; /* rooms_on_signed_on() sends it */
	LEGACY_SEND(session_ctx(s)->legacy, join_chat, .account = session_account(s),
	            .room = r->name, .key = r->key, .nick = nick != NULL ? nick : "");
}

void rooms_on_signed_on(struct session *s)
{
	struct rooms *rs = session_rooms(s);
	/* over a snapshot of the names, each looked up again: a JOIN_CHAT
	 * may re-enter (the worker lost inside the send) and end rooms */
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, rs->by_name);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(names, g_strdup(key));
	for (guint i = 0; i < names->len; i++) {
		struct room *r = g_hash_table_lookup(rs->by_name, g_ptr_array_index(names, i));
		if (r == NULL)
			continue;
		const char *nick = r->nick;
		if (r->state == ROOM_JOINED) {
			/* after a loss: join again; the answer is diffed */
			r->state = ROOM_REJOINING;
			g_clear_pointer(&r->before, g_hash_table_unref);
			r->before = r->occupants;
			r->occupants = occupants_new();
		}
		if (nick == NULL && r->pending->len > 0)
			nick = ((struct room_join *)g_ptr_array_index(r->pending, 0))->nick;
		rooms_send_join(r, nick);
	}
}

/* After a rejoin: what changed since BEFORE goes to the joined resources. */
static void diff_occupants(struct room *r, GHashTable *before)
{
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, before);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		struct occupant *o = value;
		if (!g_hash_table_contains(r->occupants, key) && !room_is_us(r, o->nick))
			muc_broadcast_gone(r, o->nick, o->flags, WORKER_CHAT_LEFT_OTHER, NULL, NULL,
			                   NULL, false);
	}
	g_hash_table_iter_init(&it, r->occupants);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		struct occupant *o = value;
		struct occupant *old = g_hash_table_lookup(before, key);
		if (room_is_us(r, o->nick))
			continue;
		if (old == NULL || old->flags != o->flags)
			muc_broadcast_occupant(r, o->nick, o->flags, false);
	}
}

void rooms_on_chat_joined(void *session, const struct worker_msg_chat_joined *m)
{
	struct session *s = session;
	struct room *r = rooms_find(s, *m->asked != '\0' ? m->asked : m->room);
	if (r == NULL)
		r = rooms_find(s, m->room);
	if (r == NULL) {
		/* a join ferry did not ask for (or forgot): not ours to show */
		g_debug("rooms: %s: joined %s unasked; leaving it", session_jid(s), m->room);
		if (LEGACY_SEND(session_ctx(s)->legacy, leave_chat, .account = session_account(s),
		                .room = m->room))
			rooms_note_leaving(s, m->room);
		return;
	}
	g_clear_handle_id(&r->timer, g_source_remove);
	if (strcmp(r->name, m->room) != 0) {
		g_autofree char *old = g_utf8_casefold(r->name, -1);
		g_autofree char *key = g_utf8_casefold(m->room, -1);
		struct room *other = g_hash_table_lookup(r->rooms->by_name, key);
		if (other != NULL && other != r) {
			/* sent into a room the user is in already (IRC forwards):
			 * that one stays, on both sides; this join is refused */
			g_autofree char *why = g_strdup_printf(
			    "the network put this join into %s, which you are in already", m->room);
			g_info("rooms: %s: join of %s: %s", session_jid(s), r->name, why);
			fail_pending(r, "cancel", "conflict", why);
			static const char *const codes[] = {"333", NULL};
			drop_room(r, codes, NULL, why);
			return;
		}
		/* the network's spelling from now on, under its own key; the
		 * user's stays findable (the client keeps using its JID) */
		gpointer stolen_key = NULL;
		g_hash_table_steal_extended(r->rooms->by_name, old, &stolen_key, NULL);
		g_free(stolen_key);
		if (r->asked == NULL) {
			r->asked = g_strdup(r->name);
			g_hash_table_replace(r->rooms->asked, g_strdup(old), g_strdup(key));
		} else {
			g_autofree char *asked = g_utf8_casefold(r->asked, -1);
			g_hash_table_replace(r->rooms->asked, g_steal_pointer(&asked),
			                     g_strdup(key));
		}
		g_free(r->name);
		r->name = g_strdup(m->room);
		g_hash_table_insert(r->rooms->by_name, g_steal_pointer(&key), r);
	}
	char *old_nick = r->nick;
	r->nick = g_strdup(m->nick);
	g_autofree char *topic = plain_topic(m->topic);
	bool topic_changed = strcmp(r->topic, topic) != 0;
	g_free(r->topic);
	r->topic = g_steal_pointer(&topic);
	room_set_topic_by(r, m->topic_by);
	if (r->state == ROOM_REJOINING && r->before != NULL) {
		GHashTable *before = r->before;
		r->before = NULL;
		r->state = ROOM_JOINED;
		if (old_nick != NULL && !room_is_us(r, old_nick)) {
			/* the network gave another nick this time: a 303 pair */
			const struct occupant *self = room_occupant(r, r->nick);
			guint32 flags = self != NULL ? self->flags : 0;
			muc_broadcast_gone(r, old_nick, flags, 0, NULL, NULL, r->nick, true);
			muc_broadcast_occupant(r, r->nick, flags, true);
		}
		diff_occupants(r, before);
		if (topic_changed) {
			GHashTableIter it;
			gpointer full;
			g_hash_table_iter_init(&it, r->joined);
			while (g_hash_table_iter_next(&it, &full, NULL))
				muc_send_subject(r, full, m->topic_by);
		}
		g_hash_table_unref(before);
	}
	g_free(old_nick);
	r->state = ROOM_JOINED;
	for (guint i = 0; i < r->pending->len; i++) {
		struct room_join *j = g_ptr_array_index(r->pending, i);
		rooms_send_state(r, j->full, j->id, j->nick);
		g_hash_table_add(r->joined, g_strdup(j->full));
	}
	g_ptr_array_set_size(r->pending, 0);
}

/* groupchat.md §4: the MUC error of each legacy refusal. */
static const struct {
	guint32 reason;
	const char *type;
	const char *condition;
} join_failures[] = {
    {WORKER_CHAT_FAIL_KEY, "auth", "not-authorized"},
    {WORKER_CHAT_FAIL_BANNED, "auth", "forbidden"},
    {WORKER_CHAT_FAIL_INVITE_ONLY, "auth", "registration-required"},
    {WORKER_CHAT_FAIL_FULL, "wait", "service-unavailable"},
    {WORKER_CHAT_FAIL_NICK_IN_USE, "cancel", "conflict"},
    {WORKER_CHAT_FAIL_NO_ROOM, "cancel", "item-not-found"},
    {WORKER_CHAT_FAIL_NETWORK, "wait", "remote-server-timeout"},
};

void rooms_on_chat_join_failed(void *session, const struct worker_msg_chat_join_failed *m)
{
	struct session *s = session;
	struct room *r = rooms_find(s, m->room);
	if (r == NULL || r->state == ROOM_JOINED)
		return;
	const char *type = "cancel";
	const char *condition = "undefined-condition";
	for (size_t i = 0; i < G_N_ELEMENTS(join_failures); i++) {
		if (join_failures[i].reason == m->reason) {
			type = join_failures[i].type;
			condition = join_failures[i].condition;
		}
	}
	g_autofree char *why =
	    g_strdup_printf("%s refused the join: %s", regform_protocol_name(session_ctx(s)->form),
	                    *m->text != '\0' ? m->text : "no reason given");
	g_info("rooms: %s: join of %s failed: %s", session_jid(s), r->name, why);
	fail_pending(r, type, condition, why);
	static const char *const codes[] = {"333", NULL};
	drop_room(r, codes, NULL, why); /* a rejoin that failed: 110+333 */
}

/* ---- occupants ---------------------------------------------------------------------- */

void rooms_on_chat_occupant(void *session, const struct worker_msg_chat_occupant *m)
{
	struct session *s = session;
	struct room *r = rooms_find(s, m->room);
	if (r == NULL)
		return;
	g_autofree char *key = g_utf8_casefold(m->nick, -1);
	struct occupant *o = g_hash_table_lookup(r->occupants, key);
	if (o == NULL) {
		if (g_hash_table_size(r->occupants) >=
		    session_ctx(s)->settings->max_room_occupants) {
			g_debug("rooms: %s: %s: over max_room_occupants, %s not shown",
			        session_jid(s), r->name, m->nick);
			return;
		}
		o = g_new0(struct occupant, 1);
		g_hash_table_insert(r->occupants, g_steal_pointer(&key), o);
	}
	g_free(o->nick);
	o->nick = g_strdup(m->nick);
	g_free(o->pm);
	o->pm = g_strdup(*m->pm != '\0' ? m->pm : m->nick);
	o->flags = m->flags;
	muc_index_pm(r, o);
	if (r->state != ROOM_JOINED)
		return; /* the join answer (or its diff) shows it */
	muc_broadcast_occupant(r, o->nick, o->flags, room_is_us(r, o->nick));
}

void rooms_on_chat_occupant_left(void *session, const struct worker_msg_chat_occupant_left *m)
{
	struct session *s = session;
	struct room *r = rooms_find(s, m->room);
	if (r == NULL)
		return;
	g_autofree char *key = g_utf8_casefold(m->nick, -1);
	struct occupant *o = g_hash_table_lookup(r->occupants, key);
	if (o == NULL)
		return;
	if (r->state == ROOM_JOINED)
		muc_broadcast_gone(r, o->nick, o->flags, m->how, m->actor, m->reason, NULL, false);
	g_hash_table_remove(r->occupants, key);
}

void rooms_on_chat_renamed(void *session, const struct worker_msg_chat_renamed *m)
{
	struct session *s = session;
	struct room *r = rooms_find(s, m->room);
	if (r == NULL)
		return;
	g_autofree char *key = g_utf8_casefold(m->old, -1);
	struct occupant *o = NULL;
	char *old_key = NULL;
	if (!g_hash_table_steal_extended(r->occupants, key, (gpointer *)&old_key, (gpointer *)&o))
		return;
	g_free(old_key);
	bool self = room_is_us(r, m->old);
	if (r->state == ROOM_JOINED)
		muc_broadcast_gone(r, o->nick, o->flags, 0, NULL, NULL, m->nick, self);
	g_free(o->nick);
	o->nick = g_strdup(m->nick);
	if (strcmp(o->pm, m->old) == 0) {
		g_free(o->pm);
		o->pm = g_strdup(m->nick);
	}
	g_hash_table_insert(r->occupants, g_utf8_casefold(m->nick, -1), o);
	muc_index_pm(r, o);
	if (self) {
		g_free(r->nick);
		r->nick = g_strdup(m->nick);
		muc_nick_settled(r);
	}
	if (r->state != ROOM_JOINED)
		return;
	muc_broadcast_occupant(r, o->nick, o->flags, self);
}

void rooms_on_chat_left(void *session, const struct worker_msg_chat_left *m)
{
	struct session *s = session;
	if (m->how == WORKER_CHAT_LEFT_PART && take_leaving(session_rooms(s), m->room)) {
		/* the answer to our LEAVE_CHAT: a room of that name is a new join */
		g_debug("rooms: %s: left %s", session_jid(s), m->room);
		return;
	}
	struct room *r = rooms_find(s, m->room);
	if (r == NULL)
		return;
	static const char *const kicked[] = {"307", NULL};
	static const char *const other[] = {"333", NULL};
	if (m->how == WORKER_CHAT_LEFT_KICK) {
		drop_room(r, kicked, m->actor, m->reason);
	} else if (g_hash_table_size(r->joined) > 0 || r->pending->len > 0) {
		/* not our LEAVE_CHAT (that forgot the room): the network ended it */
		fail_pending(r, "cancel", "item-not-found", "the room was closed");
		drop_room(r, other, NULL, *m->reason != '\0' ? m->reason : NULL);
	} else {
		rooms_remove(r);
	}
}

/* ---- messages ---------------------------------------------------------------------- */

/* A groupchat message from occupant NICK (the room itself when "") with
 * TEXT to every joined resource; ID and ORIGIN_ID (a reflection's), WHEN
 * (0: now) for a delay stamp. */
void rooms_broadcast_message(struct room *r, const char *nick, const char *text, const char *id,
                             const char *origin_id, gint64 when)
{
	g_autofree char *from = room_occupant_jid(r, nick);
	g_autofree char *sid =
	    g_strdup_printf("%" G_GUINT64_FORMAT "-%08x", ++r->rooms->stanza_ids, g_random_int());
	GHashTableIter it;
	gpointer full;
	g_hash_table_iter_init(&it, r->joined);
	while (g_hash_table_iter_next(&it, &full, NULL)) {
		struct stanza *m = stanza_new("message");
		stanza_set_attr(m, "from", from);
		stanza_set_attr(m, "to", full);
		stanza_set_attr(m, "type", "groupchat");
		if (id != NULL)
			stanza_set_attr(m, "id", id);
		stanza_add_text_child(m, "body", text);
		struct stanza *st = stanza_add_child(m, "stanza-id", NS_SID);
		stanza_set_attr(st, "id", sid);
		stanza_set_attr(st, "by", r->jid);
		if (origin_id != NULL) {
			struct stanza *o = stanza_add_child(m, "origin-id", NS_SID);
			stanza_set_attr(o, "id", origin_id);
		}
		if (when > 0) {
			g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(when);
			g_autofree char *stamp =
			    t != NULL ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
			struct stanza *d = stanza_add_child(m, "delay", NS_DELAY);
			stanza_set_attr(d, "from", r->jid);
			if (stamp != NULL)
				stanza_set_attr(d, "stamp", stamp);
		}
		router_send(router_of(r), m);
	}
}

void rooms_on_chat_message(void *session, const struct worker_msg_chat_message *m)
{
	struct session *s = session;
	if (m->seq != 0) {
		/* our echo, by its seq: whatever the room is called now */
		room_echoes_on_echo(s, m->account, m->seq);
		return;
	}
	struct room *r = rooms_find(s, m->room);
	if (r == NULL)
		return;
	g_autofree char *text = rooms_text(m->text);
	rooms_broadcast_message(r, m->nick, text, NULL, NULL,
	                        (m->flags & WORKER_CHAT_MSG_DELAYED) ? m->when : 0);
}

void room_set_topic_by(struct room *r, const char *who)
{
	g_clear_pointer(&r->topic_by, g_free);
	if (who == NULL || *who == '\0')
		return;
	/* IRC's 333 may name nick!user@host: the nick is the occupant */
	const char *bang = strchr(who, '!');
	r->topic_by = bang != NULL ? g_strndup(who, (gsize)(bang - who)) : g_strdup(who);
	if (*r->topic_by == '\0')
		g_clear_pointer(&r->topic_by, g_free);
}

void rooms_on_chat_topic(void *session, const struct worker_msg_chat_topic *m)
{
	struct session *s = session;
	struct room *r = rooms_find(s, m->room);
	if (r == NULL)
		return;
	g_free(r->topic);
	r->topic = plain_topic(m->topic);
	room_set_topic_by(r, m->who);
	muc_subject_settled(r);
	if (r->state != ROOM_JOINED)
		return;
	GHashTableIter it;
	gpointer full;
	g_hash_table_iter_init(&it, r->joined);
	while (g_hash_table_iter_next(&it, &full, NULL))
		muc_send_subject(r, full, m->who);
}

void rooms_on_chat_invited(void *session, const struct worker_msg_chat_invited *m)
{
	struct session *s = session;
	const struct gateway_ctx *ctx = session_ctx(s);
	/* not noted as a room: a stranger could turn a contact into one */
	g_autofree char *local = jid_escape_local(m->room);
	g_autofree char *room_jid =
	    local != NULL ? g_strdup_printf("%s@%s", local, ctx->jid) : NULL;
	struct jid *check = room_jid != NULL ? jid_parse(room_jid, NULL) : NULL;
	if (check == NULL) {
		g_autofree char *text = g_strdup_printf(
		    "%s invited you to %s, which cannot be reached through this transport "
		    "(the name can be no room address)",
		    m->inviter, m->room);
		out_tell_user(ctx->router, session_jid(s), text);
		return;
	}
	jid_free(check);
	g_autofree char *inviter = address_contact_jid(ctx->address, m->inviter);
	struct stanza *msg = stanza_new("message");
	stanza_set_attr(msg, "from", inviter != NULL ? inviter : ctx->jid);
	stanza_set_attr(msg, "to", session_jid(s));
	struct stanza *x = stanza_add_child(msg, "x", NS_CONFERENCE);
	stanza_set_attr(x, "jid", room_jid);
	g_autofree char *reason =
	    *m->message != '\0' ? g_strdup(m->message) : g_strdup_printf("from %s", m->inviter);
	stanza_set_attr(x, "reason", reason);
	if (*m->key != '\0')
		stanza_set_attr(x, "password", m->key);
	router_send(ctx->router, msg);
}

void rooms_on_chat_error(void *session, const struct worker_msg_chat_error *m)
{
	struct session *s = session;
	const struct gateway_ctx *ctx = session_ctx(s);
	g_autofree char *why =
	    g_strdup_printf("%s refused it: %s", regform_protocol_name(ctx->form),
	                    *m->text != '\0' ? m->text : "no reason given");
	if (m->op == WORKER_CHAT_OP_INVITE || m->op == WORKER_CHAT_OP_SEND) {
		/* no request of the user's waits for these: told in words, in or
		 * out of a room */
		out_tell_user(ctx->router, session_jid(s), why);
		return;
	}
	struct room *only = *m->room != '\0' ? rooms_find(s, m->room) : NULL;
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, session_rooms(s)->by_name);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct room *r = value;
		if (*m->room != '\0' && r != only)
			continue;
		if (m->op == WORKER_CHAT_OP_NICK && r->nick_from != NULL) {
			g_autofree char *from = room_occupant_jid(r, r->nick_new);
			struct stanza *p =
			    out_presence_new(ctx->router, from, r->nick_from, "error");
			if (r->nick_id != NULL)
				stanza_set_attr(p, "id", r->nick_id);
			stanza_add_child(p, "x", NS_MUC);
			stanza_add_error(p, "cancel", "conflict", why);
			router_send(ctx->router, p);
			muc_nick_settled(r);
		} else if (m->op == WORKER_CHAT_OP_TOPIC && r->subject_from != NULL) {
			struct stanza *e = stanza_new("message");
			stanza_set_attr(e, "from", r->jid);
			stanza_set_attr(e, "to", r->subject_from);
			stanza_set_attr(e, "type", "error");
			if (r->subject_id != NULL)
				stanza_set_attr(e, "id", r->subject_id);
			stanza_add_error(e, "auth", "forbidden", why);
			router_send(ctx->router, e);
			muc_subject_settled(r);
		}
	}
}
