/* component_stream: what is said on the XEP-0114 link: our stream header
 * and the handshake, the server's stanzas and stream errors, and the pings
 * that keep the link alive and confirm what was written. component.c moves
 * the bytes. See component_int.h. */
#include "config.h"
#include "component_int.h"

#include <openssl/sha.h>
#include <string.h>

#include "ferry/ns.h"

/* ---- the stream ------------------------------------------------------------- */

char *component_handshake_digest(const char *stream_id, const char *secret)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	g_autoptr(GString) in = g_string_new(stream_id);
	g_string_append(in, secret);
	SHA1((const unsigned char *)in->str, in->len, md);
	memset(in->str, 0, in->len);
	char *hex = g_malloc(2 * SHA_DIGEST_LENGTH + 1);
	for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

static void log_stream_error(struct component *c, const struct stanza *err)
{
	const char *cond = NULL;
	g_autofree char *text = NULL;
	for (struct stanza *ch = stanza_next_child(err, NULL); ch != NULL;
	     ch = stanza_next_child(err, ch)) {
		if (g_strcmp0(stanza_name(ch), "text") == 0)
			text = stanza_get_text(ch);
		else if (cond == NULL)
			cond = stanza_name(ch);
	}
	if (cond == NULL)
		cond = "undefined-condition";
	const char *hint = "";
	if (strcmp(cond, "not-authorized") == 0)
		hint = ": check [component] secret";
	else if (strcmp(cond, "conflict") == 0)
		hint = ": another component is connected with this JID";
	else if (strcmp(cond, "host-unknown") == 0)
		hint = ": the server has no component configured for this JID";
	if (c->state == ST_HANDSHAKE || c->state == ST_STREAM)
		g_warning("component: the server refused the handshake (%s)%s%s%s%s", cond, hint,
		          text != NULL ? " [" : "", text != NULL ? text : "",
		          text != NULL ? "]" : "");
	else
		g_warning("component: stream error from the server (%s)%s%s%s%s", cond, hint,
		          text != NULL ? " [" : "", text != NULL ? text : "",
		          text != NULL ? "]" : "");
}

void component_send_stream_error(struct component *c, const char *condition)
{
	g_string_append_printf(c->ctl,
	                       "<stream:error><%s xmlns='" STANZA_NS_STREAMS
	                       "'/></stream:error></stream:stream>",
	                       condition);
	component_flush(c);
}

static const char *ping_target(const struct component *c)
{
	return c->opt.ping_to != NULL ? c->opt.ping_to : c->opt.jid;
}

static bool is_ping_answer(const struct component *c, const struct stanza *iq)
{
	const char *type = stanza_get_type(iq);
	const char *from = stanza_get_from(iq);
	return (g_strcmp0(type, "result") == 0 || g_strcmp0(type, "error") == 0) && from != NULL &&
	       g_ascii_strcasecmp(from, ping_target(c)) == 0;
}

static void send_ping(struct component *c)
{
	if (!c->ping_outstanding)
		c->ping_stale = false;
	c->ping_outstanding = true;
	outq_push_ping(c->out, c->opt.jid, ping_target(c));
}

static gboolean confirm_due(gpointer data)
{
	struct component *c = data;
	c->confirm_timer = 0;
	component_maybe_confirm_ping(c);
	return G_SOURCE_REMOVE;
}

/* After stanzas were written, a ping whose answer confirms them. */
void component_maybe_confirm_ping(struct component *c)
{
	if (c->state != ST_ONLINE || c->confirm_timer != 0)
		return;
	gint64 wait = outq_confirm_ping_due(c->out);
	if (wait < 0)
		return;
	if (wait > 0) {
		c->confirm_timer = g_timeout_add((guint)(wait / 1000) + 1, confirm_due, c);
		return;
	}
	send_ping(c);
	if (!c->in_read)
		component_flush(c);
	else
		component_update_watch(c);
}

static gboolean ping_tick(gpointer data)
{
	struct component *c = data;
	if (c->state != ST_ONLINE)
		return G_SOURCE_CONTINUE;
	if (c->ping_outstanding && c->ping_stale) {
		g_autofree char *why = g_strdup_printf(
		    "no answer to a ping in %u s: the link is dead", c->opt.ping_interval);
		c->ping_timer = 0;
		component_link_down(c, why);
		return G_SOURCE_REMOVE;
	}
	if (c->ping_outstanding) {
		/* a confirming ping went out since the last tick: its answer
		 * has until the next one */
		c->ping_stale = true;
		return G_SOURCE_CONTINUE;
	}
	send_ping(c);
	c->ping_stale = true;
	component_flush(c);
	return G_SOURCE_CONTINUE;
}

static void go_online(struct component *c)
{
	g_clear_handle_id(&c->handshake_timer, g_source_remove);
	c->state = ST_ONLINE;
	c->online_since = g_get_monotonic_time();
	c->ping_outstanding = false;
	c->ping_stale = false;
	g_message("component: online as %s (%s:%u%s)", c->opt.jid, c->opt.host, c->opt.port,
	          c->tls != NULL ? ", TLS" : "");
	if (c->opt.ping_interval > 0)
		c->ping_timer = g_timeout_add_seconds(c->opt.ping_interval, ping_tick, c);
	if (c->cb.online != NULL)
		c->cb.online(c->user_data);
	component_flush(c);
	update_congestion(c);
}

static void on_stream_start(void *data, const char *name, const char **attrs)
{
	struct component *c = data;
	const char *id = NULL;
	for (int i = 0; attrs[i] != NULL; i += 2)
		if (strcmp(attrs[i], "id") == 0)
			id = attrs[i + 1];
	if (c->state != ST_STREAM)
		return;
	if (id == NULL || *id == '\0') {
		/* Prosody sends an empty id before host-unknown: wait for the error. */
		g_debug("component: the server's stream header has no id");
		return;
	}
	g_autofree char *digest = component_handshake_digest(id, c->opt.secret);
	g_string_append_printf(c->ctl, "<handshake>%s</handshake>", digest);
	c->state = ST_HANDSHAKE;
	component_flush(c);
}

static void on_stanza(void *data, struct stanza *stanza)
{
	struct component *c = data;
	const char *name = stanza_name(stanza);
	if (strcmp(name, "stream:error") == 0) {
		log_stream_error(c, stanza);
		stanza_free(stanza);
		component_link_down(c, "stream error");
		return;
	}
	if (c->state == ST_HANDSHAKE && strcmp(name, "handshake") == 0) {
		stanza_free(stanza);
		go_online(c);
		return;
	}
	if (c->state != ST_ONLINE) {
		g_debug("component: ignoring <%s> before the handshake", name);
		stanza_free(stanza);
		return;
	}
	/* A ping's answer, result or error, from the pinged server (which
	 * stamps 'from' itself: nobody else can send it): the server read all
	 * before it. */
	guint32 n = 0;
	if (strcmp(name, "iq") == 0 && is_ping_answer(c, stanza) &&
	    outq_ping_number(c->out, stanza_get_id(stanza), &n) && outq_confirm(c->out, n)) {
		c->ping_outstanding = false;
		stanza_free(stanza);
		component_maybe_confirm_ping(c);
		return;
	}
	if (c->cb.stanza != NULL)
		c->cb.stanza(c->user_data, stanza);
	else
		stanza_free(stanza);
}

static void on_skipped(void *data, const struct stanza *head, int why, guint64 bytes)
{
	struct component *c = data;
	if (c->state != ST_ONLINE) {
		g_debug("component: ignoring a skipped <%s> before the handshake",
		        stanza_name(head));
		return;
	}
	g_autofree char *problem = NULL;
	if (why == XML_STREAM_ERROR_TOO_DEEP)
		problem = g_strdup_printf("elements nested deeper than %u levels",
		                          XML_STREAM_DEFAULT_MAX_DEPTH);
	else if (why == XML_STREAM_ERROR_TOO_MANY)
		problem = g_strdup_printf("more than %u elements", XML_STREAM_MAX_ELEMENTS);
	else
		/* As the server forwarded it: Prosody and ejabberd write each
		 * quote and apostrophe as a 6-byte entity, so the sender's own
		 * count can be far smaller; say so, or the figure looks wrong. */
		problem = g_strdup_printf("%" G_GUINT64_FORMAT " bytes as the server forwarded it "
		                          "(quotes count 6 bytes each), over the limit of %zu",
		                          bytes, c->opt.max_stanza_bytes);
	if (c->cb.skipped != NULL)
		c->cb.skipped(c->user_data, head, problem);
	else
		g_message("component: skipped <%s> from %s (%s)", stanza_name(head),
		          stanza_get_from(head) != NULL ? stanza_get_from(head) : "?", problem);
}

static void on_stream_end(void *data)
{
	component_link_down(data, "the server closed the stream");
}

const struct xml_stream_callbacks component_stream_callbacks = {
    .stream_start = on_stream_start,
    .stanza = on_stanza,
    .stream_end = on_stream_end,
    .skipped = on_skipped,
};

void component_start_stream(struct component *c)
{
	xml_stream_reset(c->xs);
	g_string_append_printf(c->ctl,
	                       "<?xml version='1.0'?><stream:stream xmlns='" STANZA_NS_COMPONENT
	                       "' xmlns:stream='http://etherx.jabber.org/streams' to='%s'>",
	                       c->opt.jid);
	c->state = ST_STREAM;
	component_flush(c);
}
