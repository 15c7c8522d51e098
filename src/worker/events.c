/* events: what libpurple reports about our accounts, turned into events
 * for ferry (worker_protocol.h, "up").
 *
 * Sources: connection signals and the report_disconnect_reason op
 * (CONNECTED, DISCONNECTED), buddy-list signals (BUDDY_STATUS,
 * BUDDY_REMOVED), the conversation write ops (IM_RECEIVED: unlike the
 * received-im-msg signal they carry the message's own time, e.g. of
 * offline messages, and owning them stops libpurple's per-conversation
 * history from growing; system and error lines written into a
 * conversation become NOTICEs, except those sendq.c already answered as
 * a failed IM; automatic replies, such as IRC's away text, become
 * BUDDY_AWAY) and the typing signals (TYPING); and prpl-irc's own CTCP
 * VERSION answer, which names ferry. Anything
 * about an account that is not ours or already ended is dropped. */
#include "config.h"
#include "worker.h"

#include <string.h>

#include "ferry/irc_bytes.h"

static int handle; /* our signal handle (its address is what counts) */

/* ---- connection ------------------------------------------------------------- */

static void on_signed_on(PurpleConnection *gc, gpointer data)
{
	PurpleAccount *pa = purple_connection_get_account(gc);
	struct account *account = accounts_find(pa);
	if (account == NULL)
		return;
	const char *name = purple_connection_get_display_name(gc);
	account_signed_on(account, name != NULL ? name : purple_account_get_username(pa));
}

static void on_signed_off(PurpleConnection *gc, gpointer data)
{
	/* the connection's copy of the password is freed right after this */
	if (gc->password != NULL)
		memset(gc->password, 0, strlen(gc->password));
	struct account *account = accounts_find(purple_connection_get_account(gc));
	if (account != NULL) /* no error was reported first */
		account_fail(account, WORKER_REASON_OTHER, "the connection was closed", false);
}

static enum worker_reason map_reason(PurpleConnectionError error)
{
	switch (error) {
	case PURPLE_CONNECTION_ERROR_NETWORK_ERROR:
		return WORKER_REASON_NETWORK;
	case PURPLE_CONNECTION_ERROR_INVALID_USERNAME:
	case PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED:
		return WORKER_REASON_AUTH;
	case PURPLE_CONNECTION_ERROR_AUTHENTICATION_IMPOSSIBLE: /* no usable mechanism */
	case PURPLE_CONNECTION_ERROR_INVALID_SETTINGS:
		return WORKER_REASON_INVALID;
	case PURPLE_CONNECTION_ERROR_NAME_IN_USE:
		return WORKER_REASON_NAME_IN_USE;
	case PURPLE_CONNECTION_ERROR_CERT_NOT_PROVIDED:
	case PURPLE_CONNECTION_ERROR_CERT_UNTRUSTED:
	case PURPLE_CONNECTION_ERROR_CERT_EXPIRED:
	case PURPLE_CONNECTION_ERROR_CERT_NOT_ACTIVATED:
	case PURPLE_CONNECTION_ERROR_CERT_HOSTNAME_MISMATCH:
	case PURPLE_CONNECTION_ERROR_CERT_FINGERPRINT_MISMATCH:
	case PURPLE_CONNECTION_ERROR_CERT_SELF_SIGNED:
	case PURPLE_CONNECTION_ERROR_CERT_OTHER_ERROR:
		return WORKER_REASON_CERTIFICATE;
	default: /* NO_SSL_SUPPORT, ENCRYPTION_ERROR, OTHER_ERROR */
		return WORKER_REASON_OTHER;
	}
}

static void report_disconnect_reason(PurpleConnection *gc, PurpleConnectionError error,
                                     const char *text)
{
	struct account *account = accounts_find(purple_connection_get_account(gc));
	if (account == NULL)
		return;
	/* certs.c refused the certificate of this very connection: say why */
	g_autofree char *cert_problem = certs_take_failure(account);
	enum worker_reason reason = map_reason(error);
	bool fatal = purple_connection_error_is_fatal(error);
	if (cert_problem == NULL) {
		/* The network's own reason when it gave one during sign-on, and
		 * one line in any case ("Disconnected.\nERROR :..." is two). */
		g_autofree char *own = quirks_login_failure(account, &reason);
		g_autofree char *refused = prompts_take_refusal(account_id(account));
		g_autofree char *line = refused != NULL ? g_strdup_printf("%s %s", text, refused)
		                                        : g_strdup(own != NULL ? own : text);
		g_strdelimit(line, "\r\n", ' ');
		if (reason == WORKER_REASON_AUTH || reason == WORKER_REASON_CERTIFICATE ||
		    reason == WORKER_REASON_INVALID)
			fatal = true;
		account_fail(account, reason, line, fatal);
		return;
	}
	g_autofree char *full = g_strdup_printf("%s: %s", text, cert_problem);
	account_fail(account, WORKER_REASON_CERTIFICATE, full, true);
}

static PurpleConnectionUiOps connection_ops = {
    .report_disconnect_reason = report_disconnect_reason,
};

/* ---- buddies ------------------------------------------------------------------ */

static guint32 presence_status(PurplePresence *presence, PurpleStatus **active)
{
	*active = purple_presence_get_active_status(presence);
	if (!purple_presence_is_online(presence) || *active == NULL)
		return WORKER_STATUS_OFFLINE;
	switch (purple_status_type_get_primitive(purple_status_get_type(*active))) {
	case PURPLE_STATUS_OFFLINE:
		return WORKER_STATUS_OFFLINE;
	case PURPLE_STATUS_AWAY:
		return WORKER_STATUS_AWAY;
	case PURPLE_STATUS_EXTENDED_AWAY:
		return WORKER_STATUS_XA;
	case PURPLE_STATUS_UNAVAILABLE:
		return WORKER_STATUS_DND;
	default: /* available, invisible (to others, not to us), mobile, ... */
		return WORKER_STATUS_AVAILABLE;
	}
}

void events_report_buddy(PurpleBuddy *buddy)
{
	struct account *account = accounts_find(purple_buddy_get_account(buddy));
	if (account == NULL)
		return;
	PurpleStatus *active = NULL;
	guint32 status = presence_status(purple_buddy_get_presence(buddy), &active);
	/* Passed on as the prpl stored it: prpl-jabber stores the text of
	 * <status> as is (stripping markup would eat "<b>" a contact typed). */
	const char *message = NULL;
	if (status != WORKER_STATUS_OFFLINE)
		message = purple_status_get_attr_string(active, "message");
	if (message == NULL)
		message = "";
	const char *name = purple_buddy_get_name(buddy);
	const char *alias = purple_buddy_get_alias_only(buddy);
	if (alias == NULL)
		alias = "";
	g_autofree char *summary = g_strdup_printf("%u\n%s\n%s", status, alias, message);
	if (!account_presence_update(account, name, summary))
		return;
	account_emit(account,
	             WORKER_FRAME(buddy_status, .account = account_id(account), .name = name,
	                          .alias = alias, .status = status, .message = message));
}

/* The buddy-list spelling of WHO when it is a buddy: prpl-jabber reports
 * messages and typing from full JIDs (bare@domain/resource), the buddy
 * list and ferry use bare ones. Anyone else keeps the name as given. */
static const char *canonical_name(PurpleAccount *pa, const char *who)
{
	PurpleBuddy *buddy = purple_find_buddy(pa, who); /* compares normalized names */
	return buddy != NULL ? purple_buddy_get_name(buddy) : who;
}

static void on_buddy_event(PurpleBuddy *buddy, gpointer data)
{
	events_report_buddy(buddy);
}

static void on_buddy_status_changed(PurpleBuddy *buddy, PurpleStatus *old, PurpleStatus *now,
                                    gpointer data)
{
	events_report_buddy(buddy);
}

static void on_node_aliased(PurpleBlistNode *node, const char *old_alias, gpointer data)
{
	if (PURPLE_BLIST_NODE_IS_BUDDY(node))
		events_report_buddy((PurpleBuddy *)node);
}

static void on_buddy_removed(PurpleBuddy *buddy, gpointer data)
{
	PurpleAccount *pa = purple_buddy_get_account(buddy);
	struct account *account = accounts_find(pa);
	const char *name = purple_buddy_get_name(buddy);
	/* The same contact in another group is still on the list. */
	if (account == NULL || purple_find_buddy(pa, name) != NULL)
		return;
	account_presence_forget(account, name);
	account_emit(account,
	             WORKER_FRAME(buddy_removed, .account = account_id(account), .name = name));
}

/* ---- conversations ------------------------------------------------------------- */

/* A system or error line libpurple wrote into a conversation, e.g. IRC's
 * "User is not logged in" after an IM to a missing nick, or a server's
 * delivery error: relayed as a NOTICE (plain text). */
static void conversation_notice(PurpleConversation *conv, const char *message,
                                PurpleMessageFlags flags)
{
	PurpleAccount *pa = purple_conversation_get_account(conv);
	if (!(flags & (PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_ERROR)) || message == NULL) {
		g_debug("conversation line (flags 0x%x) not relayed", (unsigned)flags);
		return;
	}
	struct account *account = accounts_find(pa);
	if (account != NULL &&
	    sendq_swallow_line(account_sendq(account), purple_conversation_get_name(conv))) {
		g_debug("conversation line answered as a failed IM: not relayed");
		return;
	}
	if (xfers_swallow_line(conv, message)) {
		g_debug("conversation line about a declined file: not relayed");
		return;
	}
	g_autofree char *title = g_strdup_printf(
	    "Conversation with %s", canonical_name(pa, purple_conversation_get_name(conv)));
	g_autofree char *plain = purple_markup_strip_html(message);
	requests_notice(pa, title, plain);
}

static void write_im(PurpleConversation *conv, const char *who, const char *message,
                     PurpleMessageFlags flags, time_t mtime)
{
	PurpleAccount *pa = purple_conversation_get_account(conv);
	struct account *account = accounts_find(pa);
	if (account == NULL || message == NULL || (flags & PURPLE_MESSAGE_SEND))
		return;
	if (!(flags & PURPLE_MESSAGE_RECV)) {
		conversation_notice(conv, message, flags);
		return;
	}
	if (who == NULL || *who == '\0')
		who = purple_conversation_get_name(conv);
	who = canonical_name(pa, who);
	if (flags & PURPLE_MESSAGE_AUTO_RESP) {
		/* Written by the network, not typed: prpl-irc turns the 301 that
		 * answers our PRIVMSG into an IM of the away text (libpurple 2.14
		 * irc_msg_away). It is the contact's presence, not their words. */
		account_emit(account, WORKER_FRAME(buddy_away, .account = account_id(account),
		                                   .name = who, .message = message));
		return;
	}
	if (WORKER_DEBUG_ON())
		g_debug("account %u: IM of %zu bytes received", account_id(account),
		        strlen(message));
	account_emit(account, WORKER_FRAME(im_received, .account = account_id(account), .name = who,
	                                   .text = message, .when = mtime));
}

/* Lines written with purple_conversation_write (not the IM path). */
static void write_conv(PurpleConversation *conv, const char *name, const char *alias,
                       const char *message, PurpleMessageFlags flags, time_t mtime)
{
	if (accounts_find(purple_conversation_get_account(conv)) == NULL ||
	    (flags & PURPLE_MESSAGE_SEND))
		return;
	conversation_notice(conv, message, flags);
}

static PurpleConversationUiOps conversation_ops = {
    .write_im = write_im,
    .write_conv = write_conv,
};

static void emit_typing(PurpleAccount *pa, const char *name, guint32 state)
{
	struct account *account = accounts_find(pa);
	if (account != NULL && name != NULL)
		account_emit(account,
		             WORKER_FRAME(typing, .account = account_id(account),
		                          .name = canonical_name(pa, name), .state = state));
}

static void on_typing(PurpleAccount *pa, const char *name, gpointer data)
{
	emit_typing(pa, name, WORKER_TYPING_ACTIVE);
}

static void on_typed(PurpleAccount *pa, const char *name, gpointer data)
{
	emit_typing(pa, name, WORKER_TYPING_PAUSED);
}

static void on_typing_stopped(PurpleAccount *pa, const char *name, gpointer data)
{
	emit_typing(pa, name, WORKER_TYPING_NONE);
}

/* ---- what prpl-irc says on its own ---------------------------------------------- */

/* prpl-irc answers a CTCP VERSION itself, with libpurple's name (parse.c,
 * irc_parse_ctcp: "\001VERSION Purple IRC\001"), to anyone who asks.
 * The reply names ferry instead: honest to the network (some bots check
 * that clients answer) and no fingerprint of the library underneath. The
 * line is replaced on its way out ("irc-sending-text"): libpurple 2.14
 * writes strlen() of what the signal leaves and frees it with g_free(). */
static void on_irc_sending(PurpleConnection *gc, char **text, gpointer data)
{
	static const char purple[] = "\001VERSION Purple IRC\001\r\n";
	/* a nick that is not UTF-8 goes out as its bytes (irc_bytes.h) */
	char *raw = text != NULL && *text != NULL ? irc_bytes_unescape(*text) : NULL;
	if (raw != NULL) {
		g_free(*text);
		*text = raw;
	}
	if (text == NULL || *text == NULL || !g_str_has_prefix(*text, "NOTICE ") ||
	    !g_str_has_suffix(*text, purple))
		return;
	int head = (int)(strlen(*text) - strlen(purple));
	char *line = g_strdup_printf("%.*s\001VERSION " PACKAGE_NAME " " PACKAGE_VERSION
	                             " (XMPP transport)\001\r\n",
	                             head, *text);
	g_free(*text);
	*text = line;
}

void events_install(void)
{
	purple_connections_set_ui_ops(&connection_ops);
	chats_install(&conversation_ops); /* the chat ops are chats.c's */
	purple_conversations_set_ui_ops(&conversation_ops);

	void *connections = purple_connections_get_handle();
	purple_signal_connect(connections, "signed-on", &handle, PURPLE_CALLBACK(on_signed_on),
	                      NULL);
	purple_signal_connect(connections, "signed-off", &handle, PURPLE_CALLBACK(on_signed_off),
	                      NULL);

	void *blist = purple_blist_get_handle();
	purple_signal_connect(blist, "buddy-signed-on", &handle, PURPLE_CALLBACK(on_buddy_event),
	                      NULL);
	purple_signal_connect(blist, "buddy-signed-off", &handle, PURPLE_CALLBACK(on_buddy_event),
	                      NULL);
	purple_signal_connect(blist, "buddy-added", &handle, PURPLE_CALLBACK(on_buddy_event), NULL);
	purple_signal_connect(blist, "buddy-status-changed", &handle,
	                      PURPLE_CALLBACK(on_buddy_status_changed), NULL);
	purple_signal_connect(blist, "blist-node-aliased", &handle,
	                      PURPLE_CALLBACK(on_node_aliased), NULL);
	purple_signal_connect(blist, "buddy-removed", &handle, PURPLE_CALLBACK(on_buddy_removed),
	                      NULL);

	void *conversations = purple_conversations_get_handle();
	purple_signal_connect(conversations, "buddy-typing", &handle, PURPLE_CALLBACK(on_typing),
	                      NULL);
	purple_signal_connect(conversations, "buddy-typed", &handle, PURPLE_CALLBACK(on_typed),
	                      NULL);
	purple_signal_connect(conversations, "buddy-typing-stopped", &handle,
	                      PURPLE_CALLBACK(on_typing_stopped), NULL);

	PurplePlugin *irc = purple_plugins_find_with_id("prpl-irc");
	if (irc != NULL && purple_signal_connect(irc, "irc-sending-text", &handle,
	                                         PURPLE_CALLBACK(on_irc_sending), NULL) == 0)
		g_warning("prpl-irc: cannot watch its output; CTCP VERSION names libpurple");
}
