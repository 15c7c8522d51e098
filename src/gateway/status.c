/* status: what a session shows the user of itself -- the transport's
 * presence (from its full JID, with the legacy login's state as its show
 * and status) and the report of a login that failed for good. */
#include "config.h"
#include "internal.h"

static const char *error_condition(guint32 reason)
{
	switch (reason) {
	case WORKER_REASON_AUTH:
		return "not-authorized";
	case WORKER_REASON_TIMEOUT:
	case WORKER_REASON_NETWORK:
		return "remote-server-timeout";
	case WORKER_REASON_NAME_IN_USE:
		return "conflict";
	default:
		return "not-acceptable";
	}
}

/* The transport's presence (from its full JID) of TYPE (NULL: available)
 * to DEST, to complete. */
static struct stanza *transport_presence_new(struct session *s, const char *dest, const char *type)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	return out_full_presence_new(ctx->router, session_bare_cleared(s), ctx->jid,
	                             address_transport_full(ctx->address), session_jid(s), dest,
	                             type);
}

void session_send_transport_presence(struct session *s, const char *to)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *dest = to != NULL ? to : session_jid(s);
	const char *protocol = regform_protocol_name(ctx->form);
	enum session_state state = session_state(s);
	struct stanza *p;
	switch (state) {
	case SESSION_ONLINE: {
		p = transport_presence_new(s, dest, NULL);
		g_autofree char *status =
		    g_strdup_printf("Connected to %s as %s", protocol, session_nick(s));
		stanza_add_text_child(p, "status", status);
		break;
	}
	case SESSION_CONNECTING:
	case SESSION_RECONNECTING: {
		p = transport_presence_new(s, dest, NULL);
		stanza_add_text_child(p, "show", "away");
		g_autofree char *status = g_strdup_printf(
		    "%s to %s…", state == SESSION_CONNECTING ? "Connecting" : "Reconnecting",
		    protocol);
		stanza_add_text_child(p, "status", status);
		break;
	}
	default:
		p = transport_presence_new(s, dest, "unavailable");
		if (session_failure(s) != NULL)
			stanza_add_text_child(p, "status", session_failure(s));
		break;
	}
	if (stanza_get_type(p) == NULL) {
		disco_add_caps(p, disco_caps_ver(ctx->disco));
	}
	router_send(ctx->router, p);
}

/* Tells the user why the login failed: a presence error from the transport
 * (XEP-0100 §4.4.2) and, for clients that do not show those, a message. */
void session_report_failure(struct session *s, guint32 reason, const char *text)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	/* from the address the user's presence went to (RFC 6120 §8.3.1) */
	struct stanza *p = out_presence_new(ctx->router, NULL, session_jid(s), "error");
	stanza_add_error(p, NULL, error_condition(reason), text);
	router_send(ctx->router, p);
	g_autofree char *msg =
	    g_strdup_printf("Could not log in to %s: %s", regform_protocol_name(ctx->form), text);
	out_tell_user(ctx->router, session_jid(s), msg);
}
