/* messages: one-to-one messages and chat states (XEP-0085) both ways, the
 * outbox of messages the legacy side could not take yet, and notices from
 * the legacy side. Nothing is dropped silently: a message is delivered,
 * waits (encrypted, in storage) for a reconnect, or comes back to its
 * sender as an error with a reason. */
#include "config.h"
#include "internal.h"
#include "cmd.h"

#include <string.h>

#include "ferry/log.h"
#include "ferry/markup.h"
#include "ferry/secrets.h"

struct messages {
	struct session *session;
	GHashTable *inflight; /* IM sequence number -> struct inflight * (owned) */
	guint32 next_seq;     /* of the last IM handed to the legacy side */
	guint32 next_id;      /* for the ids of messages delivered to the user */
};

/* A message handed to the legacy side, until it reports it sent or failed. */
struct inflight {
	guint32 account;  /* the legacy account it was handed to */
	gint64 outbox_id; /* its outbox row, 0 if never stored */
	char *legacy_name;
	char *text;         /* plain text, for storing or bouncing */
	size_t text_len;    /* strlen(TEXT) */
	char *stanza_id;    /* the user's message id, may be NULL */
	char *sender;       /* the user's full JID */
	guint32 lines;      /* lines it takes on a line-based network, 0: unknown */
	guint32 lines_sent; /* ... of which went (IM_PROGRESS) */
	guint32 done;       /* bytes of TEXT that went: a requeue sends the rest */
};

/* A message that will take at least this long is announced to the user. */
#define SLOW_NOTICE_SECONDS 10

static void inflight_free(gpointer data)
{
	struct inflight *f = data;
	g_free(f->legacy_name);
	secrets_wipe_free(f->text);
	g_free(f->stanza_id);
	g_free(f->sender);
	g_free(f);
}

struct messages *messages_new(struct session *s)
{
	struct messages *ms = g_new0(struct messages, 1);
	ms->session = s;
	ms->inflight = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, inflight_free);
	return ms;
}

void messages_free(struct messages *ms)
{
	if (ms == NULL)
		return;
	g_hash_table_unref(ms->inflight);
	g_free(ms);
}

/* Sends a message error to SENDER (NULL: the user's bare JID) from the
 * contact LEGACY_NAME (or the transport, when no JID carries the name),
 * echoing TEXT, with CONDITION and a readable WHY. */
static void bounce(struct session *s, const char *legacy_name, const char *sender,
                   const char *stanza_id, const char *text, const char *condition, const char *why)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	g_autofree char *from = address_contact_jid(ctx->address, legacy_name);
	out_message_error(ctx->router, from, sender != NULL ? sender : session_jid(s), stanza_id,
	                  text, condition, why);
}

/* "55 of 230 lines were sent", or NULL when the message is not in lines
 * or nothing is known of its progress. */
static char *lines_note(guint32 lines, guint32 sent)
{
	if (lines <= 1)
		return NULL;
	if (sent == 0)
		return g_strdup_printf("none of its %u lines was sent", lines);
	return g_strdup_printf("%u of %u lines were sent", sent, lines);
}

/* The outcome of a message, known only later (the worker's answer, a
 * drain that ended, an unregistration): an error to its sender while that
 * resource is still there, else a chat message from the transport, which
 * servers store for an offline user (Prosody drops errors to a resource
 * that has gone and to bare JIDs). Names the contact, how much went, and
 * the beginning of the text. */
static void bounce_late(struct session *s, const char *legacy_name, const char *sender,
                        const char *stanza_id, const char *text, const char *condition,
                        const char *why, guint32 lines, guint32 lines_sent)
{
	g_autofree char *note = lines_note(lines, lines_sent);
	g_autofree char *full =
	    note != NULL ? g_strdup_printf("%s (%s)", why, note) : g_strdup(why);
	if (sender != NULL && session_resource_available(s, sender)) {
		bounce(s, legacy_name, sender, stanza_id, text, condition, full);
		return;
	}
	g_autofree char *start = g_utf8_substring(text, 0, MIN(g_utf8_strlen(text, -1), 80));
	g_autofree char *tell =
	    g_strdup_printf("Your message to %s was not delivered: %s. It began: \"%s%s\"",
	                    legacy_name, full, start, g_utf8_strlen(text, -1) > 80 ? "…" : "");
	out_tell_user(session_ctx(s)->router, session_jid(s), tell);
}

/* Puts a message that cannot go now into the outbox; when even that
 * fails, it comes back to its sender: never lost without a word. */
static void keep_in_outbox(struct session *s, const char *legacy_name, const char *text,
                           const char *stanza_id, const char *sender)
{
	g_autoptr(GError) err = NULL;
	if (storage_outbox_add(session_ctx(s)->storage, session_jid(s), legacy_name, text,
	                       stanza_id, sender, &err) != 0)
		return;
	g_warning("messages: %s: cannot queue a message: %s", session_jid(s), err->message);
	/* late: a requeue runs when the user may have gone */
	bounce_late(s, legacy_name, sender, stanza_id, text, "internal-server-error",
	            "the message could not be queued", 0, 0);
}

/* true when the user's outbox may take one more message ([limits]
 * max_outbox); otherwise the message comes back to its sender at once
 * (resource-constraint: it may be sent again once the login is up). */
static bool outbox_has_room(struct session *s, const char *legacy_name, const char *text,
                            const char *stanza_id, const char *sender)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	g_autoptr(GError) err = NULL;
	gint64 n = storage_outbox_count(ctx->storage, session_jid(s), &err);
	if (n < 0)
		g_warning("messages: %s: cannot count the outbox: %s", session_jid(s),
		          err->message);
	if (n < (gint64)ctx->settings->max_outbox)
		return true; /* an unreadable count: keep_in_outbox() says if storing fails */
	g_info("messages: %s: outbox full (%" G_GINT64_FORMAT " of %u); message %s bounced",
	       session_jid(s), n, ctx->settings->max_outbox, stanza_id != NULL ? stanza_id : "-");
	g_autofree char *why = g_strdup_printf(
	    "%u messages of yours are already waiting for your %s login, the most the transport "
	    "holds; this one was not queued: send it again once you are connected",
	    ctx->settings->max_outbox, regform_protocol_name(ctx->form));
	bounce(s, legacy_name, sender, stanza_id, text, "resource-constraint", why);
	return false;
}

static void unstore_outbox(struct session *s, gint64 id)
{
	g_autoptr(GError) err = NULL;
	if (id != 0 && !storage_outbox_delete(session_ctx(s)->storage, id, &err))
		g_warning("messages: %s: cannot delete outbox item %" G_GINT64_FORMAT ": %s",
		          session_jid(s), id, err->message);
}

/* Hands TEXT to the legacy side; a failure comes back as IM_RESULT,
 * success (with others) as IMS_SENT. Until then it is in flight: requeued
 * if the worker goes away. */
static void send_now(struct session *s, const char *legacy_name, const char *text,
                     const char *stanza_id, const char *sender, gint64 outbox_id)
{
	struct messages *ms = session_messages(s);
	g_autofree char *html = markup_from_text(text);
	gsize bytes = strlen(html) + strlen(legacy_name);
	if (bytes > WORKER_MAX_IM_BYTES) {
		/* Refused before it is framed: a frame over the limit would
		 * stop the worker, and the outbox would send it again at every
		 * login (issue 10, item 2). */
		g_info("messages: %s: a message to '%s' of %zu bytes once encoded is over the "
		       "worker frame limit (%d): refused",
		       session_jid(s), legacy_name, bytes, WORKER_MAX_IM_BYTES);
		g_autofree char *why =
		    g_strdup_printf("the message is too large for the transport: %zu bytes once "
		                    "encoded, at most %d",
		                    bytes, WORKER_MAX_IM_BYTES);
		if (sender != NULL && session_resource_available(s, sender))
			bounce(s, legacy_name, sender, stanza_id, NULL, "policy-violation", why);
		else /* from the outbox: the user may have gone (no echo of a body this long) */
			bounce_late(s, legacy_name, sender, stanza_id, text, "policy-violation",
			            why, 0, 0);
		unstore_outbox(s, outbox_id);
		return;
	}
	guint32 seq = ++ms->next_seq;
	if (!LEGACY_SEND(session_ctx(s)->legacy, send_im, .account = session_account(s), .seq = seq,
	                 .name = legacy_name, .text = html,
	                 .max_lines = session_ctx(s)->settings->max_message_lines)) {
		if (outbox_id == 0)
			keep_in_outbox(s, legacy_name, text, stanza_id, sender);
		return;
	}
	struct inflight *f = g_new0(struct inflight, 1);
	f->account = session_account(s);
	f->outbox_id = outbox_id;
	f->legacy_name = g_strdup(legacy_name);
	f->text = g_strdup(text);
	f->text_len = strlen(text);
	f->stanza_id = g_strdup(stanza_id);
	f->sender = g_strdup(sender);
	g_hash_table_insert(ms->inflight, GUINT_TO_POINTER(seq), f);
	contacts_on_sending(s, legacy_name, seq);
	if (log_enabled(SETTINGS_LOG_DEBUG))
		g_debug("messages: %s: relayed %zu bytes to '%s' (seq %u)", session_jid(s),
		        strlen(text), legacy_name, seq);
}

static guint32 typing_from_chatstate(const struct stanza *m, bool *found)
{
	static const struct {
		const char *name;
		guint32 typing;
	} states[] = {
	    {"composing", WORKER_TYPING_ACTIVE}, {"paused", WORKER_TYPING_PAUSED},
	    {"active", WORKER_TYPING_NONE},      {"inactive", WORKER_TYPING_NONE},
	    {"gone", WORKER_TYPING_NONE},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(states); i++)
		if (stanza_find_child(m, states[i].name, NS_CHATSTATES) != NULL) {
			*found = true;
			return states[i].typing;
		}
	*found = false;
	return WORKER_TYPING_NONE;
}

void messages_from_user(struct session *s, struct contact *c, const struct stanza *m)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *name = contact_legacy_name(c);
	if (g_strcmp0(stanza_get_type(m), "groupchat") == 0) {
		router_send_error(ctx->router, m, "not-acceptable",
		                  "group chats are not available through this transport yet");
		return;
	}
	if (!content_may_relay(s, m))
		return;
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	if (body == NULL)
		body = content_reaction_text(s, stanza_get_to(m), m);
	bool has_state = false;
	guint32 typing = typing_from_chatstate(m, &has_state);
	if (body == NULL) {
		if (has_state && session_state(s) == SESSION_ONLINE)
			(void)LEGACY_SEND(ctx->legacy, send_typing, .account = session_account(s),
			                  .name = name, .state = typing);
		return;
	}
	const char *sender = stanza_get_from(m);
	const char *id = stanza_get_id(m);
	char *text = content_text_to_send(s, stanza_get_to(m), m, body);
	if (text != NULL) {
		g_free(body);
		body = text;
	}
	switch (session_state(s)) {
	case SESSION_ONLINE:
		send_now(s, name, body, id, sender, 0);
		break;
	case SESSION_CONNECTING:
	case SESSION_RECONNECTING:
		/* Waits (encrypted) for the login; sent after it. */
		if (outbox_has_room(s, name, body, id, sender))
			keep_in_outbox(s, name, body, id, sender);
		break;
	default: {
		const char *failure = session_failure(s);
		g_autofree char *why = g_strdup_printf(
		    "you are not connected to %s%s%s", regform_protocol_name(ctx->form),
		    failure != NULL ? ": " : " (be available to the transport to connect)",
		    failure != NULL ? failure : "");
		bounce(s, name, sender, id, body, "recipient-unavailable", why);
	}
	}
}

void messages_on_im_result(void *session, const struct worker_msg_im_result *m)
{
	struct session *s = session;
	struct messages *ms = session_messages(s);
	struct inflight *f = g_hash_table_lookup(ms->inflight, GUINT_TO_POINTER(m->seq));
	if (f == NULL) {
		rooms_on_im_result(s, m); /* a room's message (SEND_CHAT)? */
		return;
	}
	if (!m->sent) {
		const char *protocol = regform_protocol_name(session_ctx(s)->form);
		const char *error = *m->error != '\0' ? m->error : "unknown error";
		const char *condition = "recipient-unavailable";
		g_autofree char *why = NULL;
		switch (m->reason) {
		case WORKER_IM_NO_RECIPIENT:
			/* The name is free on the network: whoever held it has left
			 * (or never was there) and may come back, so "not there now",
			 * as for a contact gone offline (RFC 6120 8.3.3.19), rather
			 * than item-not-found, which says the address is wrong. */
			why = g_strdup_printf("%s is not on %s: the message was not delivered",
			                      f->legacy_name, protocol);
			break;
		case WORKER_IM_TOO_LONG:
			/* a limit of this service, which the sender can meet by
			 * sending less (RFC 6120 8.3.3.12) */
			condition = "policy-violation";
			why =
			    g_strdup_printf("the message is too long for %s: %s", protocol, error);
			break;
		case WORKER_IM_CANCELLED: {
			const char *leaving = session_leaving_why(s);
			why = g_strdup(leaving != NULL ? leaving : error);
			break;
		}
		default:
			why = g_strdup_printf("%s did not take the message: %s", protocol, error);
		}
		bounce_late(s, f->legacy_name, f->sender, f->stanza_id, f->text, condition, why,
		            m->lines, m->lines_sent);
		if (m->reason == WORKER_IM_NO_RECIPIENT)
			contacts_on_absent(s, f->legacy_name);
	} else {
		contacts_on_delivered(s, f->legacy_name, m->seq);
	}
	unstore_outbox(s, f->outbox_id);
	g_hash_table_remove(ms->inflight, GUINT_TO_POINTER(m->seq));
	if (!messages_pending(s))
		session_drained(s);
}

/* The message in flight as SEQ, or NULL (already settled). */
static struct inflight *inflight_of(struct session *s, guint32 seq)
{
	return g_hash_table_lookup(session_messages(s)->inflight, GUINT_TO_POINTER(seq));
}

void messages_on_im_queued(void *session, const struct worker_msg_im_queued *m)
{
	struct session *s = session;
	struct inflight *f = inflight_of(s, m->seq);
	if (f == NULL)
		return;
	f->lines = m->lines;
	if (m->seconds < SLOW_NOTICE_SECONDS)
		return;
	g_autofree char *wait = m->seconds < 120
	                            ? g_strdup_printf("%u seconds", m->seconds)
	                            : g_strdup_printf("%u minutes", (m->seconds + 59) / 60);
	g_autofree char *text = g_strdup_printf(
	    "Your message to %s takes %u lines on %s, which go out at the network's pace: "
	    "sending it will take about %s.",
	    f->legacy_name, m->lines, regform_protocol_name(session_ctx(s)->form), wait);
	out_tell_user(session_ctx(s)->router, session_jid(s), text);
}

void messages_on_im_progress(void *session, const struct worker_msg_im_progress *m)
{
	struct inflight *f = inflight_of(session, m->seq);
	if (f == NULL)
		return;
	f->lines = m->lines;
	f->lines_sent = m->lines_sent;
	if (m->done <= f->text_len)
		f->done = m->done;
}

void messages_on_ims_sent(void *session, const struct worker_msg_ims_sent *m)
{
	struct session *s = session;
	/* In flight are the messages of the last few milliseconds: few. */
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, session_messages(s)->inflight);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		if (GPOINTER_TO_UINT(key) > m->through)
			continue;
		struct inflight *f = value;
		unstore_outbox(s, f->outbox_id);
		contacts_on_delivered(s, f->legacy_name, GPOINTER_TO_UINT(key));
		g_hash_table_iter_remove(&it);
	}
	rooms_on_ims_sent(s, m->account, m->through);
	if (!messages_pending(s))
		session_drained(s);
}

guint32 messages_next_seq(struct session *s)
{
	/* SEND_CHAT shares SEND_IM's numbers: one counter */
	return ++session_messages(s)->next_seq;
}

bool messages_pending(struct session *s)
{
	/* a room's message counts until the network took it */
	return g_hash_table_size(session_messages(s)->inflight) > 0 || room_echoes_unconfirmed(s);
}

/* What of F has not gone yet (NULL: nothing): the worker's progress says
 * how many bytes went; lines already sent are never sent again. */
static const char *unsent_rest(const struct inflight *f)
{
	if (f->done == 0)
		return f->text;
	const char *rest = f->text + f->done;
	if (!g_utf8_validate(rest, -1, NULL) ||
	    (*rest != '\0' && (*rest & 0xC0) == 0x80)) /* not a character boundary */
		return f->text;
	for (const char *p = rest; *p != '\0'; p++)
		if (!g_ascii_isspace(*p))
			return rest;
	return NULL;
}

void messages_fail_inflight(struct session *s, const char *why)
{
	struct messages *ms = session_messages(s);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, ms->inflight);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct inflight *f = value;
		bounce_late(s, f->legacy_name, f->sender, f->stanza_id, f->text,
		            "recipient-unavailable", why, f->lines, f->lines_sent);
		unstore_outbox(s, f->outbox_id);
	}
	g_hash_table_remove_all(ms->inflight);
}

void messages_requeue_inflight(struct session *s)
{
	messages_requeue_inflight_but(s, 0);
}

/* F (of a logged-out account) did not go, or only in part: its rest is
 * kept in the outbox, or, when NOW (online under a new login, whose outbox
 * was sent at its sign-on), sent at once as a new message. */
static void requeue_one(struct session *s, const struct inflight *f, bool now)
{
	const char *rest = unsent_rest(f);
	if (rest == NULL) { /* every line went */
		unstore_outbox(s, f->outbox_id);
		return;
	}
	if (rest != f->text)
		g_info("messages: %s: requeueing what did not go of a message to '%s' "
		       "(%u of %u lines were sent)",
		       session_jid(s), f->legacy_name, f->lines_sent, f->lines);
	if (now) {
		unstore_outbox(s, f->outbox_id);
		send_now(s, f->legacy_name, rest, f->stanza_id, f->sender, 0);
	} else if (rest != f->text) {
		unstore_outbox(s, f->outbox_id);
		keep_in_outbox(s, f->legacy_name, rest, f->stanza_id, f->sender);
	} else if (f->outbox_id == 0) {
		keep_in_outbox(s, f->legacy_name, f->text, f->stanza_id, f->sender);
	}
}

void messages_settle_left(struct session *s, guint32 account)
{
	struct messages *ms = session_messages(s);
	g_autoptr(GPtrArray) left = g_ptr_array_new_with_free_func(inflight_free);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, ms->inflight);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		if (((struct inflight *)value)->account != account)
			continue;
		g_ptr_array_add(left, value);
		g_hash_table_iter_steal(&it);
	}
	bool now = session_state(s) == SESSION_ONLINE && session_account(s) != 0 &&
	           session_account(s) != account;
	for (guint i = 0; i < left->len; i++)
		requeue_one(s, g_ptr_array_index(left, i), now);
	if (left->len > 0 && !messages_pending(s))
		session_drained(s);
}

void messages_requeue_inflight_but(struct session *s, guint32 keep)
{
	struct messages *ms = session_messages(s);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, ms->inflight);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct inflight *f = value;
		if (keep != 0 && f->account == keep)
			continue;
		requeue_one(s, f, false);
		g_hash_table_iter_remove(&it);
	}
}

void messages_flush_outbox(struct session *s)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items =
	    storage_outbox_list(session_ctx(s)->storage, session_jid(s), &err);
	if (items == NULL) {
		g_warning("messages: %s: cannot read the outbox: %s", session_jid(s), err->message);
		return;
	}
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	for (guint i = 0; i < items->len; i++) {
		const struct storage_outbox_item *it = g_ptr_array_index(items, i);
		if (now - it->created > GATEWAY_OUTBOX_MAX_AGE_SECONDS) {
			bounce_late(
			    s, it->legacy_name, it->sender, it->stanza_id, it->text,
			    "remote-server-timeout",
			    "not delivered: the legacy network was unreachable for too long", 0, 0);
			unstore_outbox(s, it->id);
		} else {
			send_now(s, it->legacy_name, it->text, it->stanza_id, it->sender, it->id);
		}
	}
}

void messages_bounce_all(struct session *s, const char *why)
{
	messages_requeue_inflight(s);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items =
	    storage_outbox_list(session_ctx(s)->storage, session_jid(s), &err);
	if (items == NULL) {
		g_warning("messages: %s: cannot read the outbox: %s", session_jid(s), err->message);
		return;
	}
	for (guint i = 0; i < items->len; i++) {
		const struct storage_outbox_item *it = g_ptr_array_index(items, i);
		bounce_late(s, it->legacy_name, it->sender, it->stanza_id, it->text,
		            "recipient-unavailable", why, 0, 0);
		unstore_outbox(s, it->id);
	}
}

/* ---- legacy -> XMPP ------------------------------------------------------------------ */

/* The chat message M becomes, from FROM (a contact's full JID) to TO, with
 * ID: its text, an active chat state, and a delay stamp when it is old. */
static void send_received(const struct gateway_ctx *ctx, const char *from, const char *to,
                          const char *id, const char *text, gint64 when)
{
	struct stanza *msg = out_chat_new(from, to);
	stanza_set_attr(msg, "id", id);
	stanza_add_text_child(msg, "body", text);
	stanza_add_child(msg, "active", NS_CHATSTATES);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	if (when > 0 && now - when > 10) {
		g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(when);
		g_autofree char *stamp = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
		struct stanza *d = stanza_add_child(msg, "delay", NS_DELAY);
		stanza_set_attr(d, "from", ctx->jid);
		stanza_set_attr(d, "stamp", stamp);
	}
	router_send(ctx->router, msg);
}

void messages_deliver_held(const struct gateway_ctx *ctx, const char *bare_jid,
                           const struct worker_msg_im_received *m)
{
	g_autofree char *text = markup_to_text(m->text);
	g_autofree char *contact = address_contact_jid_for(ctx->address, bare_jid, m->name);
	if (contact == NULL) {
		g_autofree char *line = g_strdup_printf("<%s> %s", m->name, text);
		out_tell_user(ctx->router, bare_jid, line);
		return;
	}
	g_autofree char *full = address_full(contact);
	g_autofree char *id = g_uuid_string_random();
	/* stamped as it arrived: the user reads it later, from their archive */
	send_received(ctx, full, bare_jid, id, text,
	              m->when > 0 ? m->when : g_get_real_time() / G_USEC_PER_SEC - 11);
	g_info("messages: %s: a message from '%s' that arrived before the session went to "
	       "the user's bare JID (kept offline by the server)",
	       bare_jid, m->name);
}

void messages_on_im_received(void *session, const struct worker_msg_im_received *m)
{
	struct session *s = session;
	const struct gateway_ctx *ctx = session_ctx(s);
	if (muc_on_private_message(s, m))
		return;
	struct contact *c = contact_get(s, m->name, true);
	g_autofree char *text = markup_to_text(m->text);
	if (contact_jid(c) == NULL) {
		/* No JID can carry this name: deliver it from the transport. */
		g_autofree char *line = g_strdup_printf("<%s> %s", m->name, text);
		out_tell_user(ctx->router, session_jid(s), line);
		return;
	}
	char id[32];
	g_snprintf(id, sizeof id, "ferry-%u-%" G_GINT64_FORMAT, ++session_messages(s)->next_id,
	           g_get_real_time() / 1000);
	send_received(ctx, contact_full_jid(c), session_jid(s), id, text, m->when);
	if (log_enabled(SETTINGS_LOG_DEBUG))
		g_debug("messages: %s: delivered %zu bytes from '%s'", session_jid(s), strlen(text),
		        m->name);
}

void messages_on_typing(void *session, const struct worker_msg_typing *m)
{
	struct session *s = session;
	struct contact *c = contact_get(s, m->name, true);
	if (contact_jid(c) == NULL)
		return;
	struct stanza *msg = out_chat_new(contact_full_jid(c), session_jid(s));
	const char *name = m->state == WORKER_TYPING_ACTIVE   ? "composing"
	                   : m->state == WORKER_TYPING_PAUSED ? "paused"
	                                                      : "active";
	stanza_add_child(msg, name, NS_CHATSTATES);
	router_send(session_ctx(s)->router, msg);
}

void messages_tell_notice(const struct gateway_ctx *ctx, const char *bare_jid,
                          const struct worker_msg_notice *m)
{
	if (!cmds_account_pref(ctx, bare_jid, "notices"))
		return; /* the user's settings command turned them off */
	g_autofree char *plain = markup_to_text(m->text);
	g_autofree char *line =
	    *m->title != '\0' ? g_strdup_printf("%s: %s", m->title, plain) : g_strdup(plain);
	out_tell_user(ctx->router, bare_jid, line);
}

void messages_on_notice(void *session, const struct worker_msg_notice *m)
{
	struct session *s = session;
	/* a channel's NOTICE (the worker titles it with the room) stays a chat
	 * from the transport ("#ferry: bob: ..."): a line from the bare room
	 * JID would be the XEP-0045 way, but Gajim 1.7.3 fails to draw one
	 * (an avatar lookup of an empty nick), so the user would not see it */
	messages_tell_notice(session_ctx(s), session_jid(s), m);
}
