/* commands: what ferry asks of this worker, one handler per command of the
 * catalogue (worker_protocol.h, "down"), dispatched by worker_msg_dispatch.
 * Commands for an account id the worker does not know are dropped, except
 * SEND_IM, which is always answered. */
#include "config.h"
#include "worker.h"

#include <errno.h>
#include <string.h>

static bool shutting_down; /* SHUTDOWN received: ignore further commands */

/* ---- login -------------------------------------------------------------------- */

static PurpleAccountOption *find_option(PurplePluginProtocolInfo *info, const char *key)
{
	for (GList *l = info->protocol_options; l != NULL; l = l->next)
		if (g_strcmp0(purple_account_option_get_setting(l->data), key) == 0)
			return l->data;
	return NULL;
}

static bool parse_bool(const char *text, gboolean *value)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};
	for (gsize i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*value = TRUE;
			return true;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*value = FALSE;
			return true;
		}
	}
	return false;
}

static bool list_has_value(PurpleAccountOption *option, const char *value)
{
	for (GList *l = purple_account_option_get_list(option); l != NULL; l = l->next) {
		PurpleKeyValuePair *pair = l->data;
		if (g_strcmp0(pair->value, value) == 0)
			return true;
	}
	return false;
}

/* Sets one account option from its text form by the option's declared
 * type. Returns an error text (owned by the caller) or NULL. Values are
 * never logged: some options are secrets. */
static char *apply_option(PurpleAccount *pa, PurpleAccountOption *option, const char *key,
                          const char *value)
{
	switch (purple_account_option_get_type(option)) {
	case PURPLE_PREF_BOOLEAN: {
		gboolean b;
		if (!parse_bool(value, &b))
			return g_strdup_printf("option '%s' must be true or false", key);
		purple_account_set_bool(pa, key, b);
		return NULL;
	}
	case PURPLE_PREF_INT: {
		gint64 n;
		if (!g_ascii_string_to_signed(value, 10, G_MININT, G_MAXINT, &n, NULL))
			return g_strdup_printf("option '%s' must be an integer", key);
		purple_account_set_int(pa, key, (int)n);
		return NULL;
	}
	case PURPLE_PREF_STRING:
		purple_account_set_string(pa, key, value);
		return NULL;
	case PURPLE_PREF_STRING_LIST:
		if (!list_has_value(option, value))
			return g_strdup_printf("option '%s' has no choice with that value", key);
		purple_account_set_string(pa, key, value);
		return NULL;
	default:
		g_message("option '%s' has an unsupported type: ignored", key);
		return NULL;
	}
}

static char *apply_options(struct account *account, PurplePluginProtocolInfo *info,
                           GHashTable *options)
{
	PurpleAccount *pa = account_purple(account);
	guint32 id = account_id(account);
	GHashTableIter iter;
	gpointer key, value;
	g_hash_table_iter_init(&iter, options);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (strcmp(key, WORKER_OPTION_CERT_PINS) == 0) {
			/* ferry's, not libpurple's: the certificates this account trusts */
			certs_set_pins(account, value);
			continue;
		}
		PurpleAccountOption *option = find_option(info, key);
		if (option == NULL) {
			g_message("account %u: unknown option '%s' ignored", id, (const char *)key);
			continue;
		}
		g_debug("account %u: option '%s' set", id, (const char *)key);
		char *error = apply_option(pa, option, key, value);
		if (error != NULL)
			return error;
	}
	return NULL;
}

static void send_disconnected(guint32 id, enum worker_reason reason, const char *text, bool fatal)
{
	g_message("account %u: login refused: %s", id, text);
	channel_send(WORKER_FRAME(disconnected, .account = id, .reason = reason, .text = text,
	                          .fatal = fatal));
}

static void on_login(void *data, const struct worker_msg_login *m)
{
	accounts_drop(m->account);
	PurplePlugin *prpl = purple_find_prpl(m->protocol);
	if (prpl == NULL) {
		g_autofree char *text = g_strdup_printf("unknown protocol %s", m->protocol);
		send_disconnected(m->account, WORKER_REASON_INVALID, text, true);
		return;
	}
	if (*m->username == '\0') {
		send_disconnected(m->account, WORKER_REASON_INVALID, "the username is empty", true);
		return;
	}
	struct account *account = accounts_add(m->account, m->flags, m->protocol, m->username);
	g_autofree char *error =
	    apply_options(account, PURPLE_PLUGIN_PROTOCOL_INFO(prpl), m->options);
	if (error != NULL) {
		account_fail(account, WORKER_REASON_INVALID, error, true);
		return;
	}
	if (*m->password != '\0')
		purple_account_set_password(account_purple(account), m->password);
	quirks_before_login(account);
	if (quirks_paced_lines(m->protocol))
		account_set_sendq(account, sendq_new(account));
	account_connect(account);
}

/* ---- commands for a live account ---------------------------------------------- */

static void on_logout(void *data, const struct worker_msg_logout *m)
{
	account_fail(data, WORKER_REASON_LOGOUT, "logged out", false);
}

static void on_set_status(void *data, const struct worker_msg_set_status *m)
{
	struct account *account = data;
	PurpleAccount *pa = account_purple(account);
	/* Wanted primitive first, then fallbacks for prpls that lack it. */
	static const PurpleStatusPrimitive wanted[][3] = {
	    [WORKER_STATUS_AVAILABLE] = {PURPLE_STATUS_AVAILABLE, 0, 0},
	    [WORKER_STATUS_AWAY] = {PURPLE_STATUS_AWAY, PURPLE_STATUS_AVAILABLE, 0},
	    [WORKER_STATUS_XA] = {PURPLE_STATUS_EXTENDED_AWAY, PURPLE_STATUS_AWAY, 0},
	    [WORKER_STATUS_DND] = {PURPLE_STATUS_UNAVAILABLE, PURPLE_STATUS_AWAY, 0},
	};
	if (m->status == WORKER_STATUS_OFFLINE || m->status >= G_N_ELEMENTS(wanted)) {
		g_warning("account %u: status %u cannot be set (use logout)", m->account,
		          m->status);
		return;
	}
	PurpleStatusType *type = NULL;
	for (int i = 0; i < 3 && type == NULL && wanted[m->status][i] != 0; i++)
		type = purple_account_get_status_type_with_primitive(pa, wanted[m->status][i]);
	if (type == NULL) {
		g_warning("account %u: the protocol has no status for %u", m->account, m->status);
		return;
	}
	const char *id = purple_status_type_get_id(type);
	g_debug("account %u: status %s", m->account, id);
	/* The message is plain text; libpurple's status messages are markup. */
	if (*m->message != '\0' && purple_status_type_get_attr(type, "message") != NULL) {
		g_autofree char *markup = g_markup_escape_text(m->message, -1);
		purple_account_set_status(pa, id, TRUE, "message", markup, NULL);
	} else {
		purple_account_set_status(pa, id, TRUE, NULL);
	}
}

static void on_add_buddy(void *data, const struct worker_msg_add_buddy *m)
{
	struct account *account = data;
	PurpleAccount *pa = account_purple(account);
	PurpleBuddy *buddy = purple_find_buddy(pa, m->name);
	if (buddy == NULL) {
		/* buddy-added reports its status */
		buddy = purple_buddy_new(pa, m->name, *m->alias != '\0' ? m->alias : NULL);
		purple_blist_add_buddy(buddy, NULL, NULL, NULL);
		purple_account_add_buddy(pa, buddy);
		return;
	}
	if (*m->alias != '\0' && g_strcmp0(purple_buddy_get_alias_only(buddy), m->alias) != 0) {
		purple_blist_alias_buddy(buddy, m->alias);
		serv_alias_buddy(buddy);
	}
	/* Already listed, yet the user asks to add it: ask the protocol again.
	 * prpl-jabber then subscribes when it has no subscription to the
	 * contact yet (a contact that only asked for ours is listed without
	 * one). */
	if (!quirks_add_buddy_counts(purple_account_get_protocol_id(pa)))
		purple_account_add_buddy(pa, buddy);
	account_presence_forget(account, m->name);
	events_report_buddy(buddy);
}

static void on_remove_buddy(void *data, const struct worker_msg_remove_buddy *m)
{
	struct account *account = data;
	PurpleAccount *pa = account_purple(account);
	/* one PurpleBuddy per group the contact is in */
	GSList *buddies = purple_find_buddies(pa, m->name);
	if (buddies == NULL) {
		/* already gone: confirm anyway, so both sides agree */
		account_emit(account,
		             WORKER_FRAME(buddy_removed, .account = m->account, .name = m->name));
		return;
	}
	for (GSList *l = buddies; l != NULL; l = l->next) {
		PurpleBuddy *buddy = l->data;
		purple_account_remove_buddy(pa, buddy, purple_buddy_get_group(buddy));
		purple_blist_remove_buddy(buddy); /* buddy-removed reports it */
	}
	g_slist_free(buddies);
}

static const char *send_error(int result)
{
	if (result == 0)
		return "the protocol sent nothing (empty message?)";
	if (result == -E2BIG)
		return "the message is too large";
	if (result == -ENOTCONN)
		return "not connected";
	return g_strerror(-result);
}

/* DATA is the account, or NULL when the id is unknown: answered anyway. */
static void on_send_im(void *data, const struct worker_msg_send_im *m)
{
	struct account *account = data;
	const char *error = NULL;
	guint32 reason = WORKER_IM_NOT_CONNECTED;
	if (account == NULL)
		error = "not logged in";
	else if (account_is_test(account))
		error = "a test login sends no messages";
	else if (!account_is_connected(account))
		error = "not connected yet";
	if (error == NULL && account_sendq(account) != NULL) {
		/* split, paced and acknowledged by the queue */
		sendq_push(account_sendq(account), m->seq, m->name, m->text, m->max_lines);
		return;
	}
	if (error == NULL) {
		reason = WORKER_IM_FAILED;
		PurpleAccount *pa = account_purple(account);
		/* serv_send_im, not purple_conv_im_send: the latter linkifies
		 * the text for HTML protocols (URLs become <a> markup). Some
		 * prpls look the conversation up while sending (prpl-jabber,
		 * for custom smileys), so make sure there is one; libpurple
		 * keeps no history for it (events.c owns the write ops). */
		if (purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, m->name, pa) == NULL)
			purple_conversation_new(PURPLE_CONV_TYPE_IM, pa, m->name);
		int result = serv_send_im(purple_account_get_connection(pa), m->name, m->text,
		                          PURPLE_MESSAGE_SEND);
		if (result <= 0)
			error = send_error(result);
		if (WORKER_DEBUG_ON())
			g_debug("account %u: IM %u of %zu bytes relayed (%d)", m->account, m->seq,
			        strlen(m->text), result);
	}
	if (error != NULL) {
		channel_send(WORKER_FRAME(im_result, .account = m->account, .seq = m->seq,
		                          .sent = false, .reason = reason, .error = error,
		                          .lines = 1));
		return;
	}
	/* On the wire first; ferry hears of it a moment later, with others. */
	quirks_flush_sends(account);
	account_sent(account, m->seq);
}

static void on_send_typing(void *data, const struct worker_msg_send_typing *m)
{
	struct account *account = data;
	if (!account_is_connected(account) || account_is_test(account))
		return;
	PurpleTypingState typing = m->state == WORKER_TYPING_ACTIVE   ? PURPLE_TYPING
	                           : m->state == WORKER_TYPING_PAUSED ? PURPLE_TYPED
	                                                              : PURPLE_NOT_TYPING;
	serv_send_typing(purple_account_get_connection(account_purple(account)), m->name, typing);
}

static void on_auth_reply(void *data, const struct worker_msg_auth_reply *m)
{
	if (!requests_answer_auth(data, m->request, m->granted))
		g_debug("account %u: no pending authorization %u", m->account, m->request);
}

/* A test login becomes the user's session: events flow from now on, and
 * the buddies it already has are reported. */
static void on_keep(void *data, const struct worker_msg_keep *m)
{
	struct account *account = data;
	if (!account_keep(account))
		return;
	g_message("account %u: kept as a session", m->account);
	GSList *buddies = purple_find_buddies(account_purple(account), NULL);
	for (GSList *l = buddies; l != NULL; l = l->next) {
		account_presence_forget(account, purple_buddy_get_name(l->data));
		events_report_buddy(l->data);
	}
	g_slist_free(buddies);
}

static void on_cancel_ims(void *data, const struct worker_msg_cancel_ims *m)
{
	/* where messages go out whole, nothing waits in the worker */
	struct sendq *q = account_sendq(data);
	if (q != NULL)
		sendq_cancel(q);
}

/* Commands with no account behind them yet (DATA unused). */
/* SEND_CHAT for an account the worker does not know: answered like SEND_IM. */
static void on_send_chat_unbound(void *data, const struct worker_msg_send_chat *m)
{
	channel_send(WORKER_FRAME(im_result, .account = m->account, .seq = m->seq, .sent = false,
	                          .reason = WORKER_IM_NOT_CONNECTED, .error = "not logged in",
	                          .lines = 1));
}

static const struct worker_msg_handlers unbound = {
    .login = on_login,
    .send_im = on_send_im,
    .send_chat = on_send_chat_unbound,
};

/* Commands for a live account (DATA: its struct account). */
static const struct worker_msg_handlers bound = {
    .logout = on_logout,
    .set_status = on_set_status,
    .add_buddy = on_add_buddy,
    .remove_buddy = on_remove_buddy,
    .send_im = on_send_im,
    .send_typing = on_send_typing,
    .auth_reply = on_auth_reply,
    .keep = on_keep,
    .cancel_ims = on_cancel_ims,
    .pause_read = pause_on_pause_read,
    .join_chat = chats_on_join_chat,
    .leave_chat = chats_on_leave_chat,
    .send_chat = chats_on_send_chat,
    .set_chat_topic = chats_on_set_chat_topic,
    .chat_invite = chats_on_chat_invite,
    .set_chat_nick = chats_on_set_chat_nick,
    .list_rooms = roomlist_on_list_rooms,
    .probe_room = chats_on_probe_room,
};

void commands_handle(guint32 type, guint32 id, GVariant *payload)
{
	if (shutting_down) {
		g_debug("%s for account %u ignored: shutting down", worker_msg_name(type), id);
		return;
	}
	if (type == WORKER_SHUTDOWN) {
		g_message("shutdown requested");
		shutting_down = true;
		worker_quit();
		return;
	}
	if (id == 0) {
		g_warning("%s for account 0 ignored", worker_msg_name(type));
		return;
	}
	if (type == WORKER_ANSWER_PROMPT) {
		/* answered for a prompt the account may have outlived */
		static const struct worker_msg_handlers prompts = {.answer_prompt =
		                                                       prompts_on_answer};
		(void)worker_msg_dispatch(&prompts, NULL, type, id, payload);
		struct account *a = accounts_lookup(id);
		if (a != NULL)
			quirks_flush_sends(a);
		return;
	}
	struct account *account = accounts_lookup(id);
	if (type == WORKER_LOGIN ||
	    ((type == WORKER_SEND_IM || type == WORKER_SEND_CHAT) && account == NULL)) {
		(void)worker_msg_dispatch(&unbound, NULL, type, id, payload);
		return;
	}
	if (account == NULL) {
		g_debug("%s for unknown account %u ignored", worker_msg_name(type), id);
		return;
	}
	if (!worker_msg_dispatch(&bound, account, type, id, payload)) {
		g_warning("unexpected %s for account %u", worker_msg_name(type), id);
		return;
	}
	if (type != WORKER_LOGOUT && type != WORKER_SEND_IM) /* SEND_IM flushed itself */
		quirks_flush_sends(account);
}
