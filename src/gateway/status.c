/* status: what a session shows the user of itself -- the transport's
 * presence (from its full JID, with the legacy login's state as its show
 * and status) and the report of a login that failed for good. */
#include "config.h"
#include "internal.h"
#include "prompts.h"

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

/* ---- a password the legacy server no longer accepts ------------------------------------ */

/* How often in a row the user is asked for a new password after the
 * answers did not work. */
#define PASSWORD_TRIES 3

/* The user's answer, on its way through a check login. */
struct password_check {
	const struct gateway_ctx *ctx;
	char *jid;
	guint tries; /* answers that did not work before this one */
};

static void ask_new_password(const struct gateway_ctx *ctx, const char *bare_jid, guint tries);

static void password_check_free(void *data)
{
	struct password_check *c = data;
	g_free(c->jid);
	g_free(c);
}

/* A prompt of the check login (a certificate question...) goes to the
 * chat bot. */
static bool password_check_prompt(void *data, struct prompt *p)
{
	(void)data;
	(void)p;
	return false;
}

static void password_check_done(void *data, bool ok, const char *nick, const char *condition,
                                const char *text)
{
	struct password_check *c = data;
	const struct gateway_ctx *ctx = c->ctx;
	const char *protocol = regform_protocol_name(ctx->form);
	if (ok) {
		g_message("status: %s: the new %s password works and is stored", c->jid, protocol);
		g_autofree char *msg = g_strdup_printf(
		    "The new password works: it is stored, and you are connected to %s as %s.",
		    protocol, nick != NULL ? nick : "before");
		out_tell_user(ctx->router, c->jid, msg);
		/* the failed session takes the checked login */
		struct session *s = sessions_get(ctx->sessions, c->jid, false);
		if (s != NULL && session_state(s) == SESSION_FAILED && session_user_available(s))
			session_login(s);
	} else {
		/* a refused password is asked again, a few times */
		bool again =
		    g_strcmp0(condition, "not-authorized") == 0 && c->tries + 1 < PASSWORD_TRIES;
		g_autofree char *msg = g_strdup_printf(
		    "The new password did not work (%s); your stored password is unchanged.%s",
		    text != NULL && *text != '\0' ? text : "the login failed",
		    again ? "" : " Log in again (the relogin command) to be asked once more.");
		out_tell_user(ctx->router, c->jid, msg);
		if (again)
			ask_new_password(ctx, c->jid, c->tries + 1);
	}
	password_check_free(c);
}

static const struct registration_requester password_requester = {
    .prompt = password_check_prompt,
    .done = password_check_done,
};

static void on_new_password(void *data, const struct dataform *values)
{
	struct password_check *c = data;
	const struct gateway_ctx *ctx = c->ctx;
	const char *password = values != NULL ? dataform_get_value(values, "password") : NULL;
	if (password == NULL || *password == '\0')
		return; /* cancelled or timed out (the user was told) */
	g_autoptr(GHashTable) settings = storage_user_settings(ctx->storage, c->jid, NULL);
	if (settings == NULL)
		return; /* unregistered meanwhile */
	const char *condition = NULL;
	g_autofree char *text = NULL;
	struct password_check *check = g_new0(struct password_check, 1);
	check->ctx = ctx;
	check->jid = g_strdup(c->jid);
	check->tries = c->tries;
	if (!registration_check(ctx->registration, c->jid, settings, password, &password_requester,
	                        check, &condition, &text)) {
		g_autofree char *msg =
		    g_strdup_printf("The new password cannot be checked now (%s); try again later.",
		                    text != NULL ? text : "no check is possible");
		out_tell_user(ctx->router, c->jid, msg);
		password_check_free(check);
	}
}

/* Asks BARE_JID for a new password (not while the question is open; TRIES:
 * the answers that did not work before): it is stored only after a check
 * login with it succeeds. */
static void ask_new_password(const struct gateway_ctx *ctx, const char *bare_jid, guint tries)
{
	if (ctx->prompts == NULL || prompts_asking(ctx->prompts, bare_jid, on_new_password))
		return;
	const char *protocol = regform_protocol_name(ctx->form);
	struct dataform *form = dataform_new(DATAFORM_FORM);
	struct dataform_field *f =
	    dataform_add_field(form, DATAFORM_TEXT_PRIVATE, "password", "New password");
	dataform_field_set_required(f, true);
	g_autofree char *title = g_strdup_printf("New %s password", protocol);
	g_autofree char *instructions = g_strdup_printf(
	    "The %s server no longer accepts your password. Enter the new one; it is stored only "
	    "after a login with it succeeds.",
	    protocol);
	struct password_check *c = g_new0(struct password_check, 1);
	c->ctx = ctx;
	c->jid = g_strdup(bare_jid);
	c->tries = tries;
	(void)prompts_ask(ctx->prompts, bare_jid, title, instructions, form, on_new_password, c,
	                  password_check_free);
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
	if (reason == WORKER_REASON_AUTH)
		ask_new_password(ctx, session_jid(s), 0);
}
