/* messages: one-to-one messages and chat states (XEP-0085) both ways, the
 * outbox of messages the legacy side could not take yet, and notices from
 * the worker. Nothing is dropped silently: a message is delivered, waits
 * (encrypted, in storage) for a reconnect, or comes back to its sender as
 * an error with a reason. */
#include "config.h"
#include "internal.h"

#include "ferry/log.h"

#include <string.h>

#include "ferry/jid.h"
#include "ferry/markup.h"

struct inflight {
	gint64 outbox_id; /* its outbox row, 0 if never stored */
	char *legacy_name;
	char *text;      /* plain text, for storing or bouncing */
	char *stanza_id; /* the user's message id, may be NULL */
	char *sender;    /* the user's full JID */
};

void inflight_free(gpointer data)
{
	struct inflight *f = data;
	g_free(f->legacy_name);
	secrets_wipe_free(f->text);
	g_free(f->stanza_id);
	g_free(f->sender);
	g_free(f);
}

/* Sends a message error to SENDER from the contact LEGACY_NAME (or the
 * transport), echoing TEXT, with CONDITION and a readable WHY. */
static void bounce(struct session *s, const char *legacy_name, const char *sender,
                   const char *stanza_id, const char *text, const char *condition, const char *why)
{
	g_autofree char *local = jid_escape_local(legacy_name);
	g_autofree char *from =
	    local != NULL ? g_strdup_printf("%s@%s", local, s->gw->jid) : g_strdup(s->gw->jid);
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "from", from);
	stanza_set_attr(m, "to", sender != NULL ? sender : s->jid);
	stanza_set_attr(m, "type", "error");
	if (stanza_id != NULL)
		stanza_set_attr(m, "id", stanza_id);
	if (text != NULL)
		stanza_add_text_child(m, "body", text);
	stanza_add_error(m, NULL, condition, why);
	gateway_send(s->gw, m);
}

static gint64 store_outbox(struct session *s, const char *legacy_name, const char *text,
                           const char *stanza_id, const char *sender)
{
	g_autoptr(GError) err = NULL;
	gint64 id =
	    storage_outbox_add(s->gw->storage, s->jid, legacy_name, text, stanza_id, sender, &err);
	if (id == 0)
		g_warning("messages: %s: cannot queue a message: %s", s->jid, err->message);
	return id;
}

static void unstore_outbox(struct session *s, gint64 id)
{
	g_autoptr(GError) err = NULL;
	if (id != 0 && !storage_outbox_delete(s->gw->storage, id, &err))
		g_warning("messages: %s: cannot delete outbox item %" G_GINT64_FORMAT ": %s",
		          s->jid, id, err->message);
}

/* Hands TEXT to the worker; a failure comes back as WORKER_IM_RESULT,
 * success (with others) as WORKER_IMS_SENT. Until then it is in flight:
 * requeued if the worker goes away. */
static void send_now(struct session *s, const char *legacy_name, const char *text,
                     const char *stanza_id, const char *sender, gint64 outbox_id)
{
	guint32 seq = ++s->next_seq;
	g_autofree char *html = markup_from_text(text);
	if (!workers_send(s->gw->workers, s->account, WORKER_SEND_IM,
	                  g_variant_new("(uss)", seq, legacy_name, html))) {
		if (outbox_id == 0)
			(void)store_outbox(s, legacy_name, text, stanza_id, sender);
		return;
	}
	struct inflight *f = g_new0(struct inflight, 1);
	f->outbox_id = outbox_id;
	f->legacy_name = g_strdup(legacy_name);
	f->text = g_strdup(text);
	f->stanza_id = g_strdup(stanza_id);
	f->sender = g_strdup(sender);
	g_hash_table_insert(s->inflight, GUINT_TO_POINTER(seq), f);
	if (log_enabled(SETTINGS_LOG_DEBUG))
		g_debug("messages: %s: relayed %zu bytes to '%s' (seq %u)", s->jid, strlen(text),
		        legacy_name, seq);
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
	struct gateway *gw = s->gw;
	if (g_strcmp0(stanza_get_type(m), "groupchat") == 0) {
		router_send_error(gw->router, m, "not-acceptable",
		                  "group chats are not available through this transport yet");
		return;
	}
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	bool has_state = false;
	guint32 typing = typing_from_chatstate(m, &has_state);
	if (body == NULL) {
		if (has_state && s->state == SESSION_ONLINE)
			workers_send(gw->workers, s->account, WORKER_SEND_TYPING,
			             g_variant_new("(su)", c->legacy_name, typing));
		return;
	}
	const char *sender = stanza_get_from(m);
	const char *id = stanza_get_id(m);
	switch (s->state) {
	case SESSION_ONLINE:
		send_now(s, c->legacy_name, body, id, sender, 0);
		break;
	case SESSION_CONNECTING:
	case SESSION_RECONNECTING:
		/* Waits (encrypted) for the login; sent after it. */
		if (store_outbox(s, c->legacy_name, body, id, sender) == 0)
			bounce(s, c->legacy_name, sender, id, body, "internal-server-error",
			       "the message could not be queued");
		break;
	default: {
		g_autofree char *why = g_strdup_printf(
		    "you are not connected to %s%s%s", regform_protocol_name(gw->form),
		    s->failure != NULL ? ": " : " (be available to the transport to connect)",
		    s->failure != NULL ? s->failure : "");
		bounce(s, c->legacy_name, sender, id, body, "recipient-unavailable", why);
	}
	}
}

void messages_on_im_result(struct session *s, GVariant *payload)
{
	guint32 seq;
	gboolean sent;
	const char *error;
	g_variant_get(payload, "(ub&s)", &seq, &sent, &error);
	struct inflight *f = g_hash_table_lookup(s->inflight, GUINT_TO_POINTER(seq));
	if (f == NULL)
		return;
	if (!sent) {
		g_autofree char *why = g_strdup_printf("%s did not take the message: %s",
		                                       regform_protocol_name(s->gw->form),
		                                       *error != '\0' ? error : "unknown error");
		bounce(s, f->legacy_name, f->sender, f->stanza_id, f->text, "recipient-unavailable",
		       why);
	}
	unstore_outbox(s, f->outbox_id);
	g_hash_table_remove(s->inflight, GUINT_TO_POINTER(seq));
}

void messages_on_ims_sent(struct session *s, GVariant *payload)
{
	guint32 through;
	g_variant_get(payload, "(u)", &through);
	/* In flight are the messages of the last few milliseconds: few. */
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, s->inflight);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		if (GPOINTER_TO_UINT(key) > through)
			continue;
		struct inflight *f = value;
		unstore_outbox(s, f->outbox_id);
		g_hash_table_iter_remove(&it);
	}
}

void messages_requeue_inflight(struct session *s)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, s->inflight);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct inflight *f = value;
		if (f->outbox_id == 0)
			(void)store_outbox(s, f->legacy_name, f->text, f->stanza_id, f->sender);
	}
	g_hash_table_remove_all(s->inflight);
}

void messages_flush_outbox(struct session *s)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items = storage_outbox_list(s->gw->storage, s->jid, &err);
	if (items == NULL) {
		g_warning("messages: %s: cannot read the outbox: %s", s->jid, err->message);
		return;
	}
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	for (guint i = 0; i < items->len; i++) {
		const struct storage_outbox_item *it = g_ptr_array_index(items, i);
		if (now - it->created > GATEWAY_OUTBOX_MAX_AGE_SECONDS) {
			bounce(s, it->legacy_name, it->sender, it->stanza_id, it->text,
			       "remote-server-timeout",
			       "not delivered: the legacy network was unreachable for too long");
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
	g_autoptr(GPtrArray) items = storage_outbox_list(s->gw->storage, s->jid, &err);
	if (items == NULL) {
		g_warning("messages: %s: cannot read the outbox: %s", s->jid, err->message);
		return;
	}
	for (guint i = 0; i < items->len; i++) {
		const struct storage_outbox_item *it = g_ptr_array_index(items, i);
		bounce(s, it->legacy_name, it->sender, it->stanza_id, it->text,
		       "recipient-unavailable", why);
		unstore_outbox(s, it->id);
	}
}

/* ---- legacy -> XMPP ------------------------------------------------------------------ */

static struct stanza *chat_from(struct session *s, struct contact *c)
{
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "from", c->jid);
	stanza_set_attr(m, "to", s->jid);
	stanza_set_attr(m, "type", "chat");
	return m;
}

void messages_on_im(struct session *s, GVariant *payload)
{
	const char *from, *html;
	gint64 when;
	g_variant_get(payload, "(&s&sx)", &from, &html, &when);
	struct contact *c = contact_get(s, from, true);
	g_autofree char *text = markup_to_text(html);
	if (c->jid == NULL) {
		/* No JID can carry this name: deliver it from the transport. */
		g_autofree char *line = g_strdup_printf("<%s> %s", from, text);
		gateway_tell_user(s->gw, s->jid, line);
		return;
	}
	struct stanza *m = chat_from(s, c);
	char id[32];
	g_snprintf(id, sizeof id, "ferry-%u-%" G_GINT64_FORMAT, s->next_seq++,
	           g_get_real_time() / 1000);
	stanza_set_attr(m, "id", id);
	stanza_add_text_child(m, "body", text);
	stanza_add_child(m, "active", NS_CHATSTATES);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	if (when > 0 && now - when > 10) {
		g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(when);
		g_autofree char *stamp = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
		struct stanza *d = stanza_add_child(m, "delay", NS_DELAY);
		stanza_set_attr(d, "from", s->gw->jid);
		stanza_set_attr(d, "stamp", stamp);
	}
	gateway_send(s->gw, m);
	if (log_enabled(SETTINGS_LOG_DEBUG))
		g_debug("messages: %s: delivered %zu bytes from '%s'", s->jid, strlen(text), from);
}

void messages_on_typing(struct session *s, GVariant *payload)
{
	const char *from;
	guint32 state;
	g_variant_get(payload, "(&su)", &from, &state);
	struct contact *c = contact_get(s, from, true);
	if (c->jid == NULL)
		return;
	struct stanza *m = chat_from(s, c);
	const char *name = state == WORKER_TYPING_ACTIVE   ? "composing"
	                   : state == WORKER_TYPING_PAUSED ? "paused"
	                                                   : "active";
	stanza_add_child(m, name, NS_CHATSTATES);
	gateway_send(s->gw, m);
}

void messages_on_notice(struct session *s, GVariant *payload)
{
	const char *title, *text;
	g_variant_get(payload, "(&s&s)", &title, &text);
	g_autofree char *plain = markup_to_text(text);
	g_autofree char *line =
	    *title != '\0' ? g_strdup_printf("%s: %s", title, plain) : g_strdup(plain);
	gateway_tell_user(s->gw, s->jid, line);
}
