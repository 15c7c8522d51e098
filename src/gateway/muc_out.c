/* muc_out: the XEP-0045 stanzas rooms send — occupants' presence with
 * their roles and affiliations, self-presence with its status codes, the
 * subject, the whole join answer (groupchat.md §4). Part of the rooms
 * module (rooms.c, muc.c). */
#include "config.h"
#include "internal.h"

#include <string.h>

static struct router *router_of(const struct room *r)
{
	return session_ctx(room_session(r))->router;
}

/* groupchat.md §4: founder -> owner/moderator, op -> admin/moderator,
 * halfop -> member/moderator, voice -> member/participant. */
static void set_item(struct stanza *item, guint32 flags, bool gone)
{
	const char *affiliation = "none";
	const char *role = "participant";
	if (flags & WORKER_CHAT_FLAG_FOUNDER) {
		affiliation = "owner";
		role = "moderator";
	} else if (flags & WORKER_CHAT_FLAG_OP) {
		affiliation = "admin";
		role = "moderator";
	} else if (flags & WORKER_CHAT_FLAG_HALFOP) {
		affiliation = "member";
		role = "moderator";
	} else if (flags & WORKER_CHAT_FLAG_VOICE) {
		affiliation = "member";
	}
	stanza_set_attr(item, "affiliation", affiliation);
	stanza_set_attr(item, "role", gone ? "none" : role);
}

void muc_add_status(struct stanza *x, const char *code)
{
	struct stanza *st = stanza_add_child(x, "status", NULL);
	stanza_set_attr(st, "code", code);
}

/* A presence from occupant NICK to TO of TYPE, with its item; returns it
 * with *X, its muc#user element, for status codes. Caller owns it. */
struct stanza *muc_occupant_presence(const struct room *r, const char *nick, const char *to,
                                     const char *type, guint32 flags, struct stanza **x,
                                     struct stanza **item)
{
	g_autofree char *from = room_occupant_jid(r, nick);
	struct stanza *p = out_presence_new(router_of(r), from, to, type);
	*x = stanza_add_child(p, "x", NS_MUC_USER);
	*item = stanza_add_child(*x, "item", NULL);
	set_item(*item, flags, type != NULL);
	return p;
}

/* Presence of occupant O (not us) to every joined resource. */
void muc_broadcast_occupant(struct room *r, const struct occupant *o)
{
	GHashTableIter it;
	gpointer full;
	g_hash_table_iter_init(&it, r->joined);
	while (g_hash_table_iter_next(&it, &full, NULL)) {
		struct stanza *x, *item;
		router_send(router_of(r),
		            muc_occupant_presence(r, o->nick, full, NULL, o->flags, &x, &item));
	}
}

/* An occupant gone (HOW, ACTOR, REASON), or renamed to NEW_NICK (303), to
 * every joined resource; SELF adds 110. */
void muc_broadcast_gone(struct room *r, const char *nick, guint32 flags, guint32 how,
                        const char *actor, const char *reason, const char *new_nick, bool self)
{
	GHashTableIter it;
	gpointer full;
	g_hash_table_iter_init(&it, r->joined);
	while (g_hash_table_iter_next(&it, &full, NULL)) {
		struct stanza *x, *item;
		struct stanza *p =
		    muc_occupant_presence(r, nick, full, "unavailable", flags, &x, &item);
		if (new_nick != NULL) {
			/* a rename keeps the occupant's role (XEP-0045 §7.6, ex. 51):
			 * only a real departure is role none */
			set_item(item, flags, false);
			stanza_set_attr(item, "nick", new_nick);
			muc_add_status(x, "303");
		} else if (how == WORKER_CHAT_LEFT_KICK) {
			if (actor != NULL && *actor != '\0') {
				struct stanza *a = stanza_add_child(item, "actor", NULL);
				stanza_set_attr(a, "nick", actor);
			}
			if (reason != NULL && *reason != '\0')
				stanza_add_text_child(item, "reason", reason);
			muc_add_status(x, "307");
		} else if (reason != NULL && *reason != '\0') {
			stanza_add_text_child(p, "status", reason);
		}
		if (self)
			muc_add_status(x, "110");
		router_send(router_of(r), p);
	}
}

void rooms_send_self_gone(struct room *r, const char *full, const char *const *codes,
                          const char *actor, const char *reason)
{
	const char *nick = r->nick;
	if (nick == NULL) {
		/* never joined: the nick the resource asked for */
		for (guint i = 0; i < r->pending->len; i++) {
			struct room_join *j = g_ptr_array_index(r->pending, i);
			if (strcmp(j->full, full) == 0)
				nick = j->nick;
		}
	}
	const struct occupant *o = nick != NULL ? room_occupant(r, nick) : NULL;
	struct stanza *x, *item;
	struct stanza *p = muc_occupant_presence(r, nick != NULL ? nick : "", full, "unavailable",
	                                         o != NULL ? o->flags : 0, &x, &item);
	if (actor != NULL && *actor != '\0') {
		struct stanza *a = stanza_add_child(item, "actor", NULL);
		stanza_set_attr(a, "nick", actor);
	}
	if (reason != NULL && *reason != '\0')
		stanza_add_text_child(item, "reason", reason);
	muc_add_status(x, "110");
	for (const char *const *c = codes; c != NULL && *c != NULL; c++)
		muc_add_status(x, *c);
	router_send(router_of(r), p);
}

/* The subject message (from WHO's occupant JID, the room's when ""). */
void muc_send_subject(struct room *r, const char *to, const char *who)
{
	g_autofree char *from =
	    who != NULL && *who != '\0' ? room_occupant_jid(r, who) : g_strdup(r->jid);
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "from", from);
	stanza_set_attr(m, "to", to);
	stanza_set_attr(m, "type", "groupchat");
	stanza_add_text_child(m, "subject", r->topic);
	router_send(router_of(r), m);
}

void rooms_send_state(struct room *r, const char *full, const char *id, const char *asked)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, r->occupants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct occupant *o = value;
		if (room_is_us(r, o->nick))
			continue;
		struct stanza *x, *item;
		router_send(router_of(r),
		            muc_occupant_presence(r, o->nick, full, NULL, o->flags, &x, &item));
	}
	const struct occupant *self = room_occupant(r, r->nick);
	struct stanza *x, *item;
	struct stanza *p = muc_occupant_presence(r, r->nick, full, NULL,
	                                         self != NULL ? self->flags : 0, &x, &item);
	if (id != NULL)
		stanza_set_attr(p, "id", id);
	muc_add_status(x, "110");
	if (asked != NULL && strcmp(asked, r->nick) != 0)
		muc_add_status(x, "210");
	router_send(router_of(r), p);
	/* an empty subject is nobody's; a topic comes from who set it */
	muc_send_subject(r, full, *r->topic != '\0' ? r->topic_by : NULL);
}
