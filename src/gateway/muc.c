/* muc: what the user sends to rooms and occupant JIDs (XEP-0045):
 * joins, resyncs, leaves, nick changes and status updates (presence);
 * groupchat messages, subjects, mediated invitations and private messages
 * (message). The room state is rooms.c's (one module in two files). */
#include "config.h"
#include "internal.h"

#include <string.h>

/* true for a MUC join (XEP-0045 §7.2): a presence with <x xmlns='…muc'/>. */
static bool is_join(const struct stanza *p)
{
	return stanza_find_child(p, "x", NS_MUC) != NULL;
}

/* true when S holds a C0 control character or DEL: none may reach a
 * legacy protocol (on IRC a CR or LF would end the command and start
 * another, groupchat.md §security). */
static bool has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p != NULL && *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
	}
	return false;
}

/* An error presence answering join P (with its id and <x xmlns=muc/>). */
static void refuse_join(const struct gateway_ctx *ctx, const struct stanza *p, const char *type,
                        const char *condition, const char *why)
{
	struct stanza *e = stanza_new_error(p, type, condition, why, false);
	stanza_add_child(e, "x", NS_MUC);
	router_send(ctx->router, e);
}

/* Whether NAME may go down as a room name; when not, P is answered. An
 * IRC channel name has no space, comma or BEL (RFC 2812 §1.3). */
static bool room_name_ok(const struct gateway_ctx *ctx, const struct stanza *p, const char *name)
{
	bool irc = address_rooms_by_prefix(ctx->address);
	if (!has_control(name) && !(irc && strpbrk(name, " ,\a") != NULL))
		return true;
	g_autofree char *shown = g_strescape(name, NULL);
	g_autofree char *why =
	    irc ? g_strdup_printf("%s is not a channel name", shown)
	        : g_strdup_printf("%s is not a room name (control characters)", shown);
	refuse_join(ctx, p, "modify", "jid-malformed", why);
	return false;
}

/* The unavailable with 110+307+333 that tells a client which thinks it is
 * in a room that it is not (groupchat.md §7): from TO, the occupant JID
 * it addressed, to FULL. */
static void kick_stray(const struct gateway_ctx *ctx, const struct jid *to, const char *full)
{
	struct stanza *p = out_presence_new(ctx->router, jid_full(to), full, "unavailable");
	struct stanza *x = stanza_add_child(p, "x", NS_MUC_USER);
	struct stanza *item = stanza_add_child(x, "item", NULL);
	stanza_set_attr(item, "affiliation", "none");
	stanza_set_attr(item, "role", "none");
	stanza_add_text_child(item, "reason",
	                      "you are not in this room (the transport may "
	                      "have restarted); join it again");
	static const char *const codes[] = {"110", "307", "333"};
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++) {
		struct stanza *st = stanza_add_child(x, "status", NULL);
		stanza_set_attr(st, "code", codes[i]);
	}
	router_send(ctx->router, p);
}

static struct room_join *find_pending(struct room *r, const char *full, guint *index)
{
	for (guint i = 0; i < r->pending->len; i++) {
		struct room_join *j = g_ptr_array_index(r->pending, i);
		if (strcmp(j->full, full) == 0) {
			if (index != NULL)
				*index = i;
			return j;
		}
	}
	return NULL;
}

/* FULL leaves R (no answer: the caller sends one if any); the last to
 * go parts the room on the legacy side. */
static void leave(struct session *s, struct room *r, const char *full)
{
	guint index;
	if (find_pending(r, full, &index) != NULL)
		g_ptr_array_remove_index(r->pending, index);
	g_hash_table_remove(r->joined, full);
	if (g_hash_table_size(r->joined) > 0 || r->pending->len > 0)
		return;
	g_info("rooms: %s: leaving %s", session_jid(s), r->name);
	/* forgotten before the LEAVE_CHAT, which may re-enter (the worker
	 * lost inside the send) */
	g_autofree char *name = g_strdup(r->name);
	rooms_remove(r);
	if (session_state(s) == SESSION_ONLINE &&
	    LEGACY_SEND(session_ctx(s)->legacy, leave_chat, .account = session_account(s),
	                .room = name))
		rooms_note_leaving(s, name); /* its PART is no news of a rejoin */
}

void muc_resource_gone(struct session *s, const char *full)
{
	/* over a snapshot of the names, each looked up again: a leave's
	 * LEAVE_CHAT may re-enter and end rooms */
	g_autoptr(GList) all = rooms_list(s);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	for (GList *l = all; l != NULL; l = l->next)
		g_ptr_array_add(names, g_strdup(((struct room *)l->data)->name));
	for (guint i = 0; i < names->len; i++) {
		struct room *r = rooms_find(s, g_ptr_array_index(names, i));
		if (r != NULL &&
		    (g_hash_table_contains(r->joined, full) || find_pending(r, full, NULL) != NULL))
			leave(s, r, full);
	}
}

/* A join presence P from FULL to ROOM_JID/NICK for legacy room NAME. */
static void join(struct session *s, const struct stanza *p, const char *full, const char *name,
                 const char *room_jid, const char *nick)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *id = stanza_get_id(p);
	struct room *r = rooms_find(s, name);
	if (r != NULL && r->state == ROOM_JOINED) {
		/* a second resource, or a resync of a joined one: the state
		 * again, to it alone (nobody sees a new occupant) */
		rooms_send_state(r, full, id, nick);
		g_hash_table_add(r->joined, g_strdup(full));
		return;
	}
	if (r == NULL) {
		enum session_state state = session_state(s);
		if (state == SESSION_OFFLINE || state == SESSION_FAILED) {
			g_autofree char *why = g_strdup_printf(
			    "not connected to %s%s%s", regform_protocol_name(ctx->form),
			    session_failure(s) != NULL ? ": " : "",
			    session_failure(s) != NULL ? session_failure(s) : "");
			struct stanza *e =
			    stanza_new_error(p, "wait", "remote-server-timeout", why, false);
			stanza_add_child(e, "x", NS_MUC);
			router_send(ctx->router, e);
			return;
		}
		const struct stanza *x = stanza_find_child(p, "x", NS_MUC);
		g_autofree char *key = stanza_get_child_text(x, "password", NULL);
		if (has_control(key)) {
			refuse_join(ctx, p, "modify", "not-acceptable",
			            "the room password has a control character");
			return;
		}
		r = rooms_add(s, name, room_jid, key);
		if (r == NULL) {
			g_autofree char *why =
			    g_strdup_printf("you are in %u rooms already, the most this transport "
			                    "allows ([limits] max_rooms)",
			                    ctx->settings->max_rooms);
			struct stanza *e =
			    stanza_new_error(p, "wait", "resource-constraint", why, false);
			stanza_add_child(e, "x", NS_MUC);
			router_send(ctx->router, e);
			return;
		}
		g_info("rooms: %s: joining %s", session_jid(s), name);
	}
	guint index;
	struct room_join *j = find_pending(r, full, &index);
	if (j != NULL)
		g_ptr_array_remove_index(r->pending, index);
	j = g_new0(struct room_join, 1);
	j->full = g_strdup(full);
	j->id = g_strdup(id);
	j->nick = g_strdup(nick);
	g_ptr_array_add(r->pending, j);
	if (r->pending->len == 1 && r->state == ROOM_JOINING && r->timer == 0)
		rooms_send_join(r, nick);
}

void muc_nick_settled(struct room *r)
{
	g_clear_handle_id(&r->nick_timer, g_source_remove);
	g_clear_pointer(&r->nick_from, g_free);
	g_clear_pointer(&r->nick_id, g_free);
	g_clear_pointer(&r->nick_new, g_free);
}

void muc_subject_settled(struct room *r)
{
	g_clear_handle_id(&r->subject_timer, g_source_remove);
	g_clear_pointer(&r->subject_from, g_free);
	g_clear_pointer(&r->subject_id, g_free);
}

/* A nick change the network did not answer (no CHAT_RENAMED nor
 * CHAT_ERROR) in room_join_ms: the presence is answered. */
static gboolean nick_overdue(gpointer data)
{
	struct room *r = data;
	r->nick_timer = 0;
	struct router *router = session_ctx(room_session(r))->router;
	g_autofree char *from = room_occupant_jid(r, r->nick_new);
	struct stanza *p = out_presence_new(router, from, r->nick_from, "error");
	if (r->nick_id != NULL)
		stanza_set_attr(p, "id", r->nick_id);
	stanza_add_child(p, "x", NS_MUC);
	stanza_add_error(p, "wait", "remote-server-timeout",
	                 "the legacy network did not answer the nick change");
	router_send(router, p);
	muc_nick_settled(r);
	return G_SOURCE_REMOVE;
}

/* The same for a subject change (no CHAT_TOPIC nor CHAT_ERROR). */
static gboolean subject_overdue(gpointer data)
{
	struct room *r = data;
	r->subject_timer = 0;
	struct router *router = session_ctx(room_session(r))->router;
	struct stanza *e = stanza_new("message");
	stanza_set_attr(e, "from", r->jid);
	stanza_set_attr(e, "to", r->subject_from);
	stanza_set_attr(e, "type", "error");
	if (r->subject_id != NULL)
		stanza_set_attr(e, "id", r->subject_id);
	stanza_add_error(e, "wait", "remote-server-timeout",
	                 "the legacy network did not answer the subject change");
	router_send(router, e);
	muc_subject_settled(r);
	return G_SOURCE_REMOVE;
}

void muc_on_presence(struct session *s, const struct stanza *p, const struct jid *from,
                     const struct jid *to)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *type = stanza_get_type(p);
	const char *full = jid_full(from);
	const char *nick = jid_resource(to);
	g_autofree char *name = jid_unescape_local(jid_local(to));
	struct room *r = rooms_find(s, name);
	bool joined = r != NULL && g_hash_table_contains(r->joined, full);

	if (g_strcmp0(type, "error") == 0) {
		/* a bounce of what the room sent that resource: it is gone */
		if (r != NULL)
			muc_resource_gone(s, full);
		return;
	}
	if (g_strcmp0(type, "unavailable") == 0) {
		if (joined) {
			rooms_send_self_gone(r, full, NULL, NULL, NULL);
			leave(s, r, full);
		} else if (r != NULL && find_pending(r, full, NULL) != NULL) {
			leave(s, r, full);
		}
		return;
	}
	if (type != NULL)
		return; /* subscriptions and probes mean nothing to a room */
	if (is_join(p)) {
		if (nick == NULL || *nick == '\0') {
			struct stanza *e = stanza_new_error(
			    p, "modify", "jid-malformed", "a join needs a nick (room/nick)", false);
			stanza_add_child(e, "x", NS_MUC);
			router_send(ctx->router, e);
			return;
		}
		if (!room_name_ok(ctx, p, name))
			return;
		join(s, p, full, name, jid_bare(to), nick);
		return;
	}
	if (!joined) {
		if (r == NULL || find_pending(r, full, NULL) == NULL)
			kick_stray(ctx, to, full);
		return;
	}
	if (nick == NULL || room_is_us(r, nick))
		return; /* a status update: nothing the legacy room shows */
	/* a nick change (XEP-0045 §7.6) */
	muc_nick_settled(r); /* an earlier one unanswered: the new one counts */
	r->nick_from = g_strdup(full);
	r->nick_id = g_strdup(stanza_get_id(p));
	r->nick_new = g_strdup(nick);
	r->nick_timer = g_timeout_add(ctx->settings->room_join_ms, nick_overdue, r);
	if (!LEGACY_SEND(ctx->legacy, set_chat_nick, .account = session_account(s), .room = r->name,
	                 .nick = nick)) {
		muc_nick_settled(r); /* it went nowhere: answered now, not in 35 s */
		router_send_error(ctx->router, p, "remote-server-timeout",
		                  "the transport is not connected to the legacy network right now");
	}
}

/* ---- IRC private messages' way back ------------------------------------------------
 *
 * An IRC PM names no channel, so a reply to a PM the user wrote through
 * room/bob would come from bob@transport and open another conversation
 * in the client (seen in Gajim). While the user writes to bob through a
 * room (for PM_ROUTE_SECONDS after the last), bob's IMs come from that
 * occupant JID instead, as long as bob is in the room; writing to
 * bob@transport itself ends it. At most PM_ROUTES_MAX per room. */
#define PM_ROUTE_SECONDS (30 * 60)
#define PM_ROUTES_MAX 256

static void note_pm_route(struct room *r, const char *pm)
{
	if (g_hash_table_size(r->pm_routes) >= PM_ROUTES_MAX)
		g_hash_table_remove_all(r->pm_routes);
	gint64 *until = g_new(gint64, 1);
	*until = g_get_monotonic_time() + (gint64)PM_ROUTE_SECONDS * G_USEC_PER_SEC;
	g_hash_table_replace(r->pm_routes, g_utf8_casefold(pm, -1), until);
}

/* The room whose occupant NAME (an IRC nick) the user last wrote to
 * privately, still routed and still there, or NULL; its occupant in *O. */
static struct room *pm_route(struct session *s, const char *name, const struct occupant **o)
{
	g_autofree char *folded = g_utf8_casefold(name, -1);
	gint64 now = g_get_monotonic_time();
	struct room *best = NULL;
	gint64 latest = 0;
	g_autoptr(GList) all = rooms_list(s);
	for (GList *l = all; l != NULL; l = l->next) {
		struct room *r = l->data;
		const gint64 *until = g_hash_table_lookup(r->pm_routes, folded);
		if (until == NULL)
			continue;
		const struct occupant *here = room_occupant(r, name);
		if (*until < now || here == NULL) {
			g_hash_table_remove(r->pm_routes, folded);
			continue;
		}
		if (*until > latest) {
			best = r;
			latest = *until;
			*o = here;
		}
	}
	return best;
}

void muc_forget_pm_route(struct session *s, const char *name)
{
	g_autofree char *folded = g_utf8_casefold(name, -1);
	g_autoptr(GList) all = rooms_list(s);
	for (GList *l = all; l != NULL; l = l->next)
		g_hash_table_remove(((struct room *)l->data)->pm_routes, folded);
}

/* A private message M through occupant TO of R (groupchat.md §4). */
static void private_message(struct session *s, struct room *r, const struct stanza *m,
                            const char *full, const struct jid *to)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	if (g_strcmp0(stanza_get_type(m), "groupchat") == 0) {
		router_send_error(ctx->router, m, "bad-request",
		                  "a private message to an occupant is of type chat");
		return;
	}
	if (r == NULL || !g_hash_table_contains(r->joined, full)) {
		router_send_error(ctx->router, m, "not-acceptable", "you are not in this room");
		return;
	}
	const struct occupant *o = room_occupant(r, jid_resource(to));
	if (o == NULL) {
		router_send_error(ctx->router, m, "item-not-found", "nobody of that nick is here");
		return;
	}
	struct contact *c = contact_get(s, o->pm, true);
	if (c == NULL) {
		router_send_error(ctx->router, m, "item-not-found",
		                  "that occupant cannot be written to");
		return;
	}
	if (address_rooms_by_prefix(ctx->address) && stanza_find_child(m, "body", NULL) != NULL)
		note_pm_route(r, o->pm);
	messages_from_user(s, c, m);
}

/* A mediated invitation (XEP-0045 §7.8.2) INVITE in R. */
static void invite(struct session *s, struct room *r, const struct stanza *m,
                   const struct stanza *inv)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *to = stanza_get_attr(inv, "to");
	struct jid *who = to != NULL ? jid_parse(to, NULL) : NULL;
	g_autofree char *name = who != NULL && jid_local(who) != NULL &&
	                                g_ascii_strcasecmp(jid_domain(who), ctx->jid) == 0
	                            ? address_legacy_name(ctx->address, jid_local(who))
	                            : NULL;
	jid_free(who);
	if (name == NULL) {
		router_send_error(ctx->router, m, "jid-malformed",
		                  "invitations go to contacts of this transport");
		return;
	}
	g_autofree char *reason = stanza_get_child_text(inv, "reason", NULL);
	if (has_control(reason)) {
		router_send_error(ctx->router, m, "bad-request",
		                  "the invitation's reason has a control character");
		return;
	}
	if (!LEGACY_SEND(ctx->legacy, chat_invite, .account = session_account(s), .room = r->name,
	                 .name = name, .reason = reason != NULL ? reason : ""))
		router_send_error(ctx->router, m, "remote-server-timeout",
		                  "the transport is not connected to the legacy network right now");
}

void muc_on_message(struct session *s, const struct stanza *m, const struct jid *from,
                    const struct jid *to)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *full = jid_full(from);
	g_autofree char *name = jid_unescape_local(jid_local(to));
	struct room *r = rooms_find(s, name);
	if (jid_resource(to) != NULL) {
		private_message(s, r, m, full, to);
		return;
	}
	const struct stanza *x = stanza_find_child(m, "x", NS_MUC_USER);
	const struct stanza *inv = x != NULL ? stanza_find_child(x, "invite", NULL) : NULL;
	if (inv != NULL && r != NULL) {
		invite(s, r, m, inv);
		return;
	}
	if (r == NULL || !g_hash_table_contains(r->joined, full)) {
		router_send_error(ctx->router, m, "not-acceptable",
		                  "you are not in this room (the transport may have restarted); "
		                  "join it again");
		return;
	}
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	const struct stanza *subject = stanza_find_child(m, "subject", NULL);
	if (g_strcmp0(stanza_get_type(m), "groupchat") != 0) {
		if (body != NULL)
			router_send_error(ctx->router, m, "bad-request",
			                  "messages to a room are of type groupchat");
		return;
	}
	if (subject != NULL && body == NULL) {
		g_autofree char *topic = stanza_get_text(subject);
		/* one line on every legacy network: line breaks and tabs as
		 * spaces, any other control character refused */
		for (char *c = topic; c != NULL && *c != '\0'; c++) {
			if (*c == '\r' || *c == '\n' || *c == '\t')
				*c = ' ';
		}
		if (has_control(topic)) {
			router_send_error(ctx->router, m, "not-acceptable",
			                  "the subject has a control character");
			return;
		}
		muc_subject_settled(r);
		r->subject_from = g_strdup(full);
		r->subject_id = g_strdup(stanza_get_id(m));
		r->subject_timer = g_timeout_add(ctx->settings->room_join_ms, subject_overdue, r);
		if (!LEGACY_SEND(ctx->legacy, set_chat_topic, .account = session_account(s),
		                 .room = r->name, .topic = topic != NULL ? topic : "")) {
			muc_subject_settled(r);
			router_send_error(
			    ctx->router, m, "remote-server-timeout",
			    "the transport is not connected to the legacy network right now");
		}
		return;
	}
	/* the same judgement as a 1:1 message: end-to-end encryption (OMEMO in
	 * a room, with its fallback body), retractions and reactions cannot
	 * cross, and are answered; OTR and plain text go on */
	if (!content_may_relay(s, m))
		return;
	g_autofree char *reaction =
	    body == NULL ? content_reaction_text(s, stanza_get_to(m), m) : NULL;
	const char *said = reaction != NULL ? reaction : body;
	if (said == NULL || *said == '\0')
		return; /* chat states: nothing the legacy room carries */
	g_autofree char *text = content_text_to_send(s, stanza_get_to(m), m, said);
	rooms_say(r, m, full, text != NULL ? text : said);
}

void muc_index_pm(struct room *r, const struct occupant *o)
{
	/* IRC's PM name is the nick, and IRC PMs are found by pm_route():
	 * no index (it doubled the main process's memory per occupant) */
	if (address_rooms_by_prefix(session_ctx(room_session(r))->address))
		return;
	/* entries are checked on use, not removed as occupants go: rebuilt
	 * from the occupants when stale ones pile up */
	if (g_hash_table_size(r->by_pm) > 2 * g_hash_table_size(r->occupants) + 64) {
		g_hash_table_remove_all(r->by_pm);
		GHashTableIter it;
		gpointer key, value;
		g_hash_table_iter_init(&it, r->occupants);
		while (g_hash_table_iter_next(&it, &key, &value))
			g_hash_table_replace(r->by_pm, g_strdup(((struct occupant *)value)->pm),
			                     g_strdup(key));
	}
	g_hash_table_replace(r->by_pm, g_strdup(o->pm), g_utf8_casefold(o->nick, -1));
}

static void send_private(struct session *s, struct room *r, const struct occupant *o,
                         const struct worker_msg_im_received *m)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	g_autofree char *from = room_occupant_jid(r, o->nick);
	g_autofree char *text = rooms_text(m->text);
	struct stanza *msg = out_chat_new(from, session_jid(s));
	g_autofree char *id = g_uuid_string_random();
	stanza_set_attr(msg, "id", id);
	stanza_add_text_child(msg, "body", text);
	stanza_add_child(msg, "x", NS_MUC_USER);
	router_send(ctx->router, msg);
}

bool muc_on_private_message(struct session *s, const struct worker_msg_im_received *m)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	if (address_rooms_by_prefix(ctx->address)) {
		/* IRC PMs have no room: from the contact, unless the user is
		 * writing to them through one */
		const struct occupant *o = NULL;
		struct room *r = pm_route(s, m->name, &o);
		if (r == NULL)
			return false;
		send_private(s, r, o, m);
		return true;
	}
	g_autoptr(GList) all = rooms_list(s);
	for (GList *l = all; l != NULL; l = l->next) {
		struct room *r = l->data;
		const char *key = g_hash_table_lookup(r->by_pm, m->name);
		const struct occupant *o =
		    key != NULL ? g_hash_table_lookup(r->occupants, key) : NULL;
		if (o == NULL || strcmp(o->pm, m->name) != 0)
			continue;
		send_private(s, r, o, m);
		return true;
	}
	return false;
}
