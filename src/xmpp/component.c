/* component: the XEP-0114 link to the XMPP server. One connection at a time;
 * every loss (network, stream error, dead ping) ends in a reconnect after a
 * backoff delay. A slow server never costs a stanza: the queue reports
 * congestion to its owner instead of overflowing, and what was written but
 * not yet confirmed by a ping's answer is written again after a reconnect.
 * This file moves the bytes (sockets, TLS, the write queue, connect and
 * reconnect); component_stream.c says what goes over them. See
 * include/ferry/component.h. */
#include "config.h"
#include "ferry/component.h"

#include "ferry/jid.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "ferry/fdwatch.h"
#include "ferry/xml_stream.h"
#include "component_int.h"
#include "outq.h"
#include "tls.h"

/* Half of Prosody's component_stanza_size_limit (512 KiB), which closes the
 * stream on any larger stanza from ferry. */
#define DEFAULT_OUTBOUND_BYTES (256 * 1024)
#define DEFAULT_BACKOFF_CAP_MS 60000
#define HANDSHAKE_TIMEOUT_S 30
#define CONNECT_TIMEOUT_S 15
#define READ_CHUNK 16384
#define READS_PER_WAKEUP 64
#define STABLE_ONLINE_US (10 * G_USEC_PER_SEC)

enum io_result { IO_OK, IO_AGAIN, IO_CLOSED, IO_ERROR };

guint component_backoff_ms(guint attempt, guint cap_ms, double random)
{
	double delay = 1000.0;
	for (guint i = 1; i < attempt && delay < cap_ms; i++)
		delay *= 2;
	if (delay > cap_ms)
		delay = cap_ms;
	if (random < 0)
		random = 0;
	if (random >= 1)
		random = 0.999;
	return (guint)(delay * (0.5 + 0.5 * random));
}

/* ---- low-level I/O --------------------------------------------------------- */

static enum io_result io_write(struct component *c, const char *buf, size_t len, size_t *done,
                               GError **error)
{
	*done = 0;
	if (c->tls != NULL) {
		switch (tls_write(c->tls, buf, len, done, error)) {
		case TLS_IO_OK:
			return IO_OK;
		case TLS_IO_WANT_READ:
		case TLS_IO_WANT_WRITE:
			return IO_AGAIN;
		case TLS_IO_CLOSED:
			return IO_CLOSED;
		default:
			return IO_ERROR;
		}
	}
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0) {
		*done = (size_t)n;
		return IO_OK;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return IO_AGAIN;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "write: %s",
	            g_strerror(errno));
	return IO_ERROR;
}

static enum io_result io_read(struct component *c, char *buf, size_t len, size_t *got,
                              GError **error)
{
	*got = 0;
	c->tls_wants_write = false;
	if (c->tls != NULL) {
		switch (tls_read(c->tls, buf, len, got, error)) {
		case TLS_IO_OK:
			return IO_OK;
		case TLS_IO_WANT_WRITE:
			c->tls_wants_write = true;
			return IO_AGAIN;
		case TLS_IO_WANT_READ:
			return IO_AGAIN;
		case TLS_IO_CLOSED:
			return IO_CLOSED;
		default:
			return IO_ERROR;
		}
	}
	ssize_t n = recv(c->fd, buf, len, 0);
	if (n > 0) {
		*got = (size_t)n;
		return IO_OK;
	}
	if (n == 0)
		return IO_CLOSED;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return IO_AGAIN;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "read: %s", g_strerror(errno));
	return IO_ERROR;
}

/* ---- the write queue -------------------------------------------------------- */

/* Writes what it can; returns false when the link went down. */
static bool write_buffer(struct component *c, const GString *buf, size_t *off)
{
	while (*off < buf->len) {
		size_t done = 0;
		g_autoptr(GError) err = NULL;
		enum io_result r = io_write(c, buf->str + *off, buf->len - *off, &done, &err);
		if (r == IO_AGAIN)
			return true;
		if (r != IO_OK) {
			component_link_down(c, err != NULL ? err->message
			                                   : "connection closed by the server");
			return false;
		}
		*off += done;
	}
	return true;
}

void component_flush(struct component *c)
{
	if (c->fd < 0 || c->state == ST_CONNECTING || c->state == ST_TLS)
		return;
	if (!write_buffer(c, c->ctl, &c->ctl_off))
		return;
	if (c->ctl_off < c->ctl->len) {
		component_update_watch(c);
		return;
	}
	g_string_truncate(c->ctl, 0);
	c->ctl_off = 0;
	while (c->state == ST_ONLINE && !outq_is_empty(c->out)) {
		struct outq_item *head = outq_head(c->out);
		if (!write_buffer(c, head->s, &c->out_head_off))
			return;
		if (c->out_head_off < head->s->len)
			break;
		c->out_head_off = 0;
		/* Written is not yet received: kept until a ping's answer. */
		outq_head_written(c->out);
	}
	component_update_watch(c);
	if (c->state == ST_ONLINE) {
		component_maybe_confirm_ping(c);
		update_congestion(c);
	}
}

static bool wants_output(const struct component *c)
{
	if (c->ctl_off < c->ctl->len)
		return true;
	return c->state == ST_ONLINE && !outq_is_empty(c->out);
}

/* ---- socket events ---------------------------------------------------------- */

static gboolean read_pending(gpointer data);

static void read_ready(struct component *c)
{
	char buf[READ_CHUNK];
	c->in_read = true;
	if (c->cb.batch_begin != NULL)
		c->cb.batch_begin(c->user_data);
	for (int i = 0; i < READS_PER_WAKEUP && c->down_reason == NULL; i++) {
		size_t got = 0;
		g_autoptr(GError) err = NULL;
		enum io_result r = io_read(c, buf, sizeof buf, &got, &err);
		if (r == IO_AGAIN)
			break;
		if (r != IO_OK) {
			component_link_down(c, r == IO_CLOSED ? "connection closed by the server"
			                                      : err->message);
			break;
		}
		if (c->ping_outstanding && c->state == ST_ONLINE)
			c->ping_outstanding = false; /* any traffic proves the link */
		c->ping_stale = false;
		if (!xml_stream_feed(c->xs, buf, got, &err)) {
			g_warning("component: bad XML from the server: %s", err->message);
			component_send_stream_error(c, xml_stream_error_condition(err->code));
			component_link_down(c, "bad XML from the server");
			break;
		}
		/* A short read drained the socket (TLS may still hold bytes:
		 * see read_pending); poll says when more comes. */
		if (got < sizeof buf)
			break;
	}
	c->in_read = false;
	if (c->cb.batch_end != NULL)
		c->cb.batch_end(c->user_data);
	if (c->down_reason != NULL) {
		g_autofree char *why = g_steal_pointer(&c->down_reason);
		component_link_down(c, why);
	} else if (c->tls != NULL && tls_pending(c->tls) && c->pending_idle == 0) {
		/* Decrypted bytes wait in OpenSSL; poll will not say so. */
		c->pending_idle = g_idle_add(read_pending, c);
	}
}

static gboolean read_pending(gpointer data)
{
	struct component *c = data;
	c->pending_idle = 0;
	if (c->tls != NULL)
		read_ready(c);
	if (c->fd >= 0)
		component_flush(c);
	return G_SOURCE_REMOVE;
}

static void tls_step(struct component *c);

static gboolean on_io(gint fd, GIOCondition cond, gpointer data)
{
	struct component *c = data;
	if (c->state == ST_TLS) {
		tls_step(c);
		return G_SOURCE_CONTINUE;
	}
	if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
		read_ready(c);
	if (c->fd >= 0)
		component_flush(c);
	return G_SOURCE_CONTINUE;
}

static void set_watch(struct component *c, GIOCondition cond)
{
	if (c->watch != 0 && c->watch_cond == cond)
		return;
	g_clear_handle_id(&c->watch, g_source_remove);
	c->watch_cond = cond;
	c->watch = fdwatch_add(c->fd, cond, on_io, c);
}

void component_update_watch(struct component *c)
{
	if (c->fd < 0 || c->state == ST_TLS)
		return;
	GIOCondition cond = G_IO_IN;
	if (wants_output(c) || c->tls_wants_write)
		cond |= G_IO_OUT;
	set_watch(c, cond);
}

static void tls_step(struct component *c)
{
	g_autoptr(GError) err = NULL;
	switch (tls_handshake(c->tls, &err)) {
	case TLS_IO_OK:
		g_debug("component: TLS established with %s:%u", c->opt.host, c->opt.port);
		c->state = ST_STREAM;
		component_start_stream(c);
		return;
	case TLS_IO_WANT_READ:
		set_watch(c, G_IO_IN);
		return;
	case TLS_IO_WANT_WRITE:
		set_watch(c, G_IO_OUT);
		return;
	default:
		g_warning("component: %s", err != NULL ? err->message : "TLS handshake failed");
		component_link_down(c, "TLS handshake failed");
		return;
	}
}

static gboolean handshake_timeout(gpointer data)
{
	struct component *c = data;
	c->handshake_timer = 0;
	component_link_down(c, "no answer from the server during the handshake");
	return G_SOURCE_REMOVE;
}

static void on_connected(GObject *source, GAsyncResult *res, gpointer data)
{
	g_autoptr(GError) err = NULL;
	GSocketConnection *conn =
	    g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &err);
	if (conn == NULL && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return; /* the component is being freed: DATA may be gone */
	struct component *c = data;
	g_clear_object(&c->cancel);
	if (conn == NULL) {
		c->state = ST_IDLE;
		component_link_down(c, err->message);
		return;
	}
	c->conn = conn;
	GSocket *sock = g_socket_connection_get_socket(conn);
	g_socket_set_blocking(sock, FALSE);
	g_socket_set_option(sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	c->fd = g_socket_get_fd(sock);
	c->handshake_timer = g_timeout_add_seconds(HANDSHAKE_TIMEOUT_S, handshake_timeout, c);
	g_debug("component: connected to %s:%u", c->opt.host, c->opt.port);
	if (!c->opt.tls) {
		component_start_stream(c);
		return;
	}
	const char *name = c->opt.tls_server_name != NULL ? c->opt.tls_server_name : c->opt.host;
	c->tls = tls_new(c->fd, name, c->opt.tls_ca_file, &err);
	if (c->tls == NULL) {
		g_warning("component: %s", err->message);
		component_link_down(c, "TLS setup failed");
		return;
	}
	c->state = ST_TLS;
	tls_step(c);
}

static void connect_now(struct component *c)
{
	c->state = ST_CONNECTING;
	g_debug("component: connecting to %s:%u%s", c->opt.host, c->opt.port,
	        c->opt.tls ? " (TLS)" : "");
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_socket_client_set_timeout(client, CONNECT_TIMEOUT_S);
	/* No proxy lookup: it would load dconf/libproxy and write to $HOME. */
	g_socket_client_set_enable_proxy(client, FALSE);
	g_autoptr(GSocketConnectable) addr = g_network_address_new(c->opt.host, c->opt.port);
	c->cancel = g_cancellable_new();
	g_socket_client_connect_async(client, addr, c->cancel, on_connected, c);
}

static gboolean reconnect_due(gpointer data)
{
	struct component *c = data;
	c->reconnect_timer = 0;
	connect_now(c);
	return G_SOURCE_REMOVE;
}

/* Closes the connection, if any, and schedules the next attempt. Inside the
 * read loop the teardown is deferred until the parser has returned. */
void component_link_down(struct component *c, const char *reason)
{
	if (c->in_read) {
		if (c->down_reason == NULL)
			c->down_reason = g_strdup(reason);
		xml_stream_stop(c->xs);
		return;
	}
	if (c->state == ST_IDLE && c->reconnect_timer != 0)
		return;
	bool was_online = c->state == ST_ONLINE;
	g_clear_handle_id(&c->watch, g_source_remove);
	g_clear_handle_id(&c->pending_idle, g_source_remove);
	g_clear_handle_id(&c->handshake_timer, g_source_remove);
	g_clear_handle_id(&c->ping_timer, g_source_remove);
	g_clear_handle_id(&c->confirm_timer, g_source_remove);
	g_clear_pointer(&c->tls, tls_free);
	g_clear_object(&c->conn);
	c->fd = -1;
	c->tls_wants_write = false;
	c->ping_outstanding = false;
	g_string_truncate(c->ctl, 0);
	c->ctl_off = 0;
	c->out_head_off = 0; /* a half-written stanza is sent again in whole */
	c->state = ST_IDLE;
	if (was_online && g_get_monotonic_time() - c->online_since >= STABLE_ONLINE_US)
		c->attempts = 0;
	c->attempts++;
	guint delay = component_backoff_ms(c->attempts, c->opt.max_backoff_ms, g_random_double());
	g_warning("component: link down (%s); reconnecting in %.1f s", reason, delay / 1000.0);
	c->reconnect_timer = g_timeout_add(delay, reconnect_due, c);
	outq_requeue(c->out); /* written again after the reconnect */
	update_congestion(c);
	if (was_online && c->cb.offline != NULL)
		c->cb.offline(c->user_data);
}

/* ---- public API ------------------------------------------------------------- */

struct component *component_new(const struct component_options *options,
                                const struct component_callbacks *callbacks, void *user_data)
{
	struct component *c = g_new0(struct component, 1);
	c->opt = *options;
	c->opt.jid = g_strdup(options->jid);
	c->opt.host = g_strdup(options->host);
	c->opt.secret = g_strdup(options->secret);
	c->opt.tls_ca_file = g_strdup(options->tls_ca_file);
	c->opt.tls_server_name = g_strdup(options->tls_server_name);
	c->opt.ping_to = g_strdup(options->ping_to);
	if (c->opt.max_stanza_bytes == 0)
		c->opt.max_stanza_bytes = XML_STREAM_DEFAULT_MAX_STANZA_BYTES;
	if (c->opt.max_outbound_bytes == 0)
		c->opt.max_outbound_bytes = DEFAULT_OUTBOUND_BYTES;
	const struct outq_limits lim = {options->max_queue_bytes, options->queue_low_bytes,
	                                options->key_high_bytes};
	if (c->opt.max_backoff_ms == 0)
		c->opt.max_backoff_ms = DEFAULT_BACKOFF_CAP_MS;
	if (callbacks != NULL)
		c->cb = *callbacks;
	c->user_data = user_data;
	c->fd = -1;
	c->ctl = g_string_new(NULL);
	c->out = outq_new(&lim, c->cb.congestion, user_data);
	c->xs = xml_stream_new(c->opt.max_stanza_bytes, 0, &component_stream_callbacks, c);
	xml_stream_set_max_token_bytes(c->xs, c->opt.max_token_bytes);
	return c;
}

void component_free(struct component *c)
{
	if (c == NULL)
		return;
	if (c->cancel != NULL) {
		g_cancellable_cancel(c->cancel);
		g_clear_object(&c->cancel);
	}
	if (c->fd >= 0 && c->state >= ST_STREAM) {
		/* Best effort: the server learns we left on purpose. */
		g_string_truncate(c->ctl, 0);
		c->ctl_off = 0;
		g_string_append(c->ctl, "</stream:stream>");
		size_t done = 0;
		(void)io_write(c, c->ctl->str, c->ctl->len, &done, NULL);
		if (c->tls != NULL)
			tls_shutdown(c->tls);
	}
	g_clear_handle_id(&c->watch, g_source_remove);
	g_clear_handle_id(&c->pending_idle, g_source_remove);
	g_clear_handle_id(&c->handshake_timer, g_source_remove);
	g_clear_handle_id(&c->ping_timer, g_source_remove);
	g_clear_handle_id(&c->reconnect_timer, g_source_remove);
	g_clear_handle_id(&c->confirm_timer, g_source_remove);
	g_clear_pointer(&c->tls, tls_free);
	g_clear_object(&c->conn);
	outq_free(c->out);
	g_string_free(c->ctl, TRUE);
	xml_stream_free(c->xs);
	g_free(c->down_reason);
	g_free((char *)c->opt.jid);
	g_free((char *)c->opt.host);
	if (c->opt.secret != NULL)
		memset((char *)c->opt.secret, 0, strlen(c->opt.secret));
	g_free((char *)c->opt.secret);
	g_free((char *)c->opt.tls_ca_file);
	g_free((char *)c->opt.tls_server_name);
	g_free((char *)c->opt.ping_to);
	g_free(c);
}

void component_start(struct component *c)
{
	if (c->state == ST_IDLE && c->reconnect_timer == 0)
		connect_now(c);
}

bool component_is_online(const struct component *c)
{
	return c->state == ST_ONLINE;
}

const char *component_jid(const struct component *c)
{
	return c->opt.jid;
}

/* true when FROM is a valid JID at the component domain. Parsed as a JID:
 * in "x/y@domain" the domain is x (the resource may hold an '@'). */
static bool from_is_ours(const struct component *c, const char *from)
{
	struct jid *j = jid_parse(from, NULL);
	bool ours = j != NULL && g_ascii_strcasecmp(jid_domain(j), c->opt.jid) == 0;
	jid_free(j);
	return ours;
}

bool component_send(struct component *c, struct stanza *stanza)
{
	const char *from = stanza_get_from(stanza);
	if (from == NULL) {
		stanza_set_attr(stanza, "from", c->opt.jid);
	} else if (!from_is_ours(c, from)) {
		g_warning("component: refusing to send <%s> from '%s', outside %s",
		          stanza_name(stanza), from, c->opt.jid);
		stanza_free(stanza);
		return false;
	}
	if (stanza_get_to(stanza) == NULL) {
		g_warning("component: refusing to send <%s> without a 'to' address",
		          stanza_name(stanza));
		stanza_free(stanza);
		return false;
	}
	/* The server closes the whole stream on a stanza over its own limit
	 * (Prosody: 512 KiB), so none is written over max_outbound_bytes. */
	GString *s = g_string_sized_new(256);
	size_t cut = 0;
	switch (stanza_serialize_within(stanza, c->opt.max_outbound_bytes, s, &cut)) {
	case STANZA_FITS:
		break;
	case STANZA_TRUNCATED:
		g_message("component: <message> to %s cut by %zu bytes of its body to fit "
		          "max_outbound_bytes (%zu)",
		          stanza_get_to(stanza), cut, c->opt.max_outbound_bytes);
		break;
	case STANZA_TOO_BIG:
		g_warning("component: refusing to send <%s> to %s: over max_outbound_bytes (%zu)",
		          stanza_name(stanza), stanza_get_to(stanza), c->opt.max_outbound_bytes);
		stanza_free(stanza);
		g_string_free(s, TRUE);
		return false;
	}
	stanza_free(stanza);
	/* Never refused for length: over the high-water mark the owner is
	 * told (congestion callback) and stops taking from the legacy side. */
	outq_push(c->out, s, c->cur_key, 0);
	if (c->state == ST_ONLINE && !c->in_read)
		component_flush(c);
	else if (c->state == ST_ONLINE)
		component_update_watch(c);
	update_congestion(c);
	return true;
}

guint32 component_set_key(struct component *c, guint32 key)
{
	guint32 old = c->cur_key;
	c->cur_key = key;
	return old;
}

size_t component_queued_bytes(const struct component *c, guint32 key)
{
	return outq_bytes(c->out, key);
}

size_t component_unconfirmed_bytes(const struct component *c)
{
	return outq_unconfirmed_bytes(c->out);
}

bool component_congested(const struct component *c)
{
	return outq_congested(c->out);
}
