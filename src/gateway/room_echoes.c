/* room_echoes: what the user says in rooms, from SEND_CHAT to its
 * reflection (groupchat.md §6). A message waits for the worker's echo of
 * it (CHAT_MESSAGE with its seq), or once the network took it (IMS_SENT)
 * room_echo_wait_ms at most, then is reflected to every joined resource;
 * refused (IM_RESULT) it comes back as an error. Each is tagged with the
 * account it went to: only that account's word settles it, and when that
 * account goes (logout, worker loss, the rooms' end) every message not
 * yet taken comes back as an error — never sent again, never reflected. */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/markup.h"

/* One message the user said, waiting for its echo to be reflected. */
struct echo {
	struct room_echoes *echoes;
	guint32 account; /* the login it went to */
	guint32 seq;
	char *room;      /* legacy name */
	char *sender;    /* full JID */
	char *id;        /* the message's id (NULL: none) */
	char *origin_id; /* XEP-0359 origin-id (NULL: none) */
	char *text;      /* as sent, for the reflection without an echo */
	guint timer;     /* after IMS_SENT (the network took it): reflect anyway */
};

/* A user's room messages not settled yet, at most: past it a message is
 * refused (resource-constraint) rather than held without bound. */
#define ECHOES_MAX 500

struct room_echoes {
	struct session *s;
	GHashTable *by_seq; /* seq -> struct echo * (owned) */
};

static void echo_free(gpointer data)
{
	struct echo *e = data;
	g_clear_handle_id(&e->timer, g_source_remove);
	g_free(e->room);
	g_free(e->sender);
	g_free(e->id);
	g_free(e->origin_id);
	g_free(e->text);
	g_free(e);
}

struct room_echoes *room_echoes_new(struct session *s)
{
	struct room_echoes *es = g_new0(struct room_echoes, 1);
	es->s = s;
	es->by_seq = g_hash_table_new_full(NULL, NULL, NULL, echo_free);
	return es;
}

void room_echoes_free(struct room_echoes *es)
{
	if (es == NULL)
		return;
	g_hash_table_unref(es->by_seq);
	g_free(es);
}

bool room_echoes_unconfirmed(struct session *s)
{
	/* asked after every IMS_SENT and settled echo: stops at the first */
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, rooms_echoes(s)->by_seq);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((struct echo *)value)->timer == 0)
			return true;
	return false;
}

/* E is settled: forgotten; a drain waiting for it may end (when
 * TELL_DRAIN: not when its account goes, whose callers end the drain
 * themselves, possibly while the session is freed). */
static void settled(struct echo *e, bool tell_drain)
{
	struct session *s = e->echoes->s;
	g_hash_table_remove(e->echoes->by_seq, GUINT_TO_POINTER(e->seq));
	if (tell_drain && !messages_pending(s))
		session_drained(s);
}

static void reflect(struct echo *e)
{
	struct room *r = rooms_find(e->echoes->s, e->room);
	if (r != NULL && r->nick != NULL)
		rooms_broadcast_message(r, r->nick, e->text, e->id, e->origin_id, 0);
	settled(e, true);
}

/* E comes back to its sender with CONDITION and WHY: an error message
 * from the room when that resource is still there (in the room or
 * available to the transport), else a chat message
 * from the transport (as messages.c's late bounces). */
static void bounce(struct echo *e, const char *condition, const char *why, bool tell_drain)
{
	struct session *s = e->echoes->s;
	const struct gateway_ctx *ctx = session_ctx(s);
	struct room *r = rooms_find(s, e->room);
	if ((r != NULL && g_hash_table_contains(r->joined, e->sender)) ||
	    session_resource_available(s, e->sender)) {
		struct stanza *err = stanza_new("message");
		stanza_set_attr(err, "from", r != NULL ? r->jid : ctx->jid);
		stanza_set_attr(err, "to", e->sender);
		stanza_set_attr(err, "type", "error");
		if (e->id != NULL)
			stanza_set_attr(err, "id", e->id);
		stanza_add_text_child(err, "body", e->text);
		stanza_add_error(err, stanza_error_type_for(condition), condition, why);
		router_send(ctx->router, err);
	} else {
		glong len = g_utf8_strlen(e->text, -1);
		g_autofree char *start = g_utf8_substring(e->text, 0, MIN(len, 80));
		g_autofree char *tell =
		    g_strdup_printf("Your message to %s was not delivered: %s. It began: \"%s%s\"",
		                    e->room, why, start, len > 80 ? "…" : "");
		out_tell_user(ctx->router, session_jid(s), tell);
	}
	settled(e, tell_drain);
}

bool rooms_say(struct room *r, const struct stanza *m, const char *full, const char *text)
{
	struct session *s = room_session(r);
	const struct gateway_ctx *ctx = session_ctx(s);
	if (session_state(s) != SESSION_ONLINE || r->state != ROOM_JOINED) {
		router_send_error(
		    ctx->router, m, "remote-server-timeout",
		    "not connected to the legacy network now; the message was not sent");
		return false;
	}
	g_autofree char *html = markup_from_text(text);
	gsize bytes = strlen(html) + strlen(r->name);
	if (bytes > WORKER_MAX_IM_BYTES) {
		/* as messages.c's send_now: a frame over the limit would stop
		 * the worker */
		g_autofree char *why =
		    g_strdup_printf("the message is too large for the transport: %zu bytes once "
		                    "encoded, at most %d",
		                    bytes, WORKER_MAX_IM_BYTES);
		router_send_error(ctx->router, m, "policy-violation", why);
		return false;
	}
	if (g_hash_table_size(rooms_echoes(s)->by_seq) >= ECHOES_MAX) {
		g_autofree char *why = g_strdup_printf(
		    "%d of your room messages are still on their way; wait a little", ECHOES_MAX);
		router_send_error(ctx->router, m, "resource-constraint", why);
		return false;
	}
	guint32 seq = messages_next_seq(s);
	if (!LEGACY_SEND(ctx->legacy, send_chat, .account = session_account(s), .seq = seq,
	                 .room = r->name, .text = html,
	                 .max_lines = ctx->settings->max_message_lines)) {
		router_send_error(ctx->router, m, "remote-server-timeout",
		                  "the legacy connection is gone; the message was not sent");
		return false;
	}
	struct echo *e = g_new0(struct echo, 1);
	e->echoes = rooms_echoes(s);
	e->account = session_account(s);
	e->seq = seq;
	e->room = g_strdup(r->name);
	e->sender = g_strdup(full);
	e->id = g_strdup(stanza_get_id(m));
	const struct stanza *origin = stanza_find_child(m, "origin-id", NS_SID);
	e->origin_id = origin != NULL ? g_strdup(stanza_get_attr(origin, "id")) : NULL;
	e->text = g_strdup(text);
	g_hash_table_insert(e->echoes->by_seq, GUINT_TO_POINTER(seq), e);
	return true;
}

/* The echo SEQ of ACCOUNT's, NULL when none (or another login's). */
static struct echo *find(struct session *s, guint32 account, guint32 seq)
{
	struct echo *e = g_hash_table_lookup(rooms_echoes(s)->by_seq, GUINT_TO_POINTER(seq));
	return e != NULL && e->account == account ? e : NULL;
}

bool rooms_on_im_result(struct session *s, const struct worker_msg_im_result *m)
{
	struct echo *e = find(s, m->account, m->seq);
	if (e == NULL)
		return false;
	if (m->sent) {
		reflect(e);
		return true;
	}
	g_autofree char *why = g_strdup_printf("%s did not take the message: %s",
	                                       regform_protocol_name(session_ctx(s)->form),
	                                       *m->error != '\0' ? m->error : "unknown error");
	bounce(e, m->reason == WORKER_IM_TOO_LONG ? "policy-violation" : "not-acceptable", why,
	       true);
	return true;
}

static gboolean echo_overdue(gpointer data)
{
	struct echo *e = data;
	e->timer = 0;
	reflect(e); /* frees E */
	return G_SOURCE_REMOVE;
}

void rooms_on_ims_sent(struct session *s, guint32 account, guint32 through)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, rooms_echoes(s)->by_seq);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct echo *e = value;
		if (e->account == account && e->seq <= through && e->timer == 0)
			e->timer = g_timeout_add(session_ctx(s)->settings->room_echo_wait_ms,
			                         echo_overdue, e);
	}
}

void room_echoes_on_echo(struct session *s, guint32 account, guint32 seq)
{
	struct echo *e = find(s, account, seq);
	if (e != NULL) {
		reflect(e);
		return;
	}
	/* our message's echo after it was reflected (the wait ran out) or
	 * answered: never a second copy */
	g_debug("rooms: %s: late echo of %u", session_jid(s), seq);
}

void room_echoes_fail(struct session *s, guint32 account, const char *why)
{
	/* a snapshot: the answers may end a drain, which logs out */
	g_autoptr(GList) all = g_hash_table_get_values(rooms_echoes(s)->by_seq);
	g_autoptr(GPtrArray) gone = g_ptr_array_new();
	for (GList *l = all; l != NULL; l = l->next) {
		struct echo *e = l->data;
		if (e->timer == 0 && (account == 0 || e->account == account))
			g_ptr_array_add(gone, GUINT_TO_POINTER(e->seq));
	}
	for (guint i = 0; i < gone->len; i++) {
		struct echo *e =
		    g_hash_table_lookup(rooms_echoes(s)->by_seq, g_ptr_array_index(gone, i));
		if (e != NULL)
			bounce(e, "remote-server-timeout", why, false);
	}
}
