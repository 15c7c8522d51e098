/* chats_admin: what is done to a room besides talking in it -- its topic
 * (SET_CHAT_TOPIC, chat-topic-changed, IRC 333's setter), invitations both
 * ways (CHAT_INVITE, chat-invited: declined here, the user joins through
 * XMPP), our nick (SET_CHAT_NICK: IRC's NICK for the whole connection,
 * prpl-jabber's /nick in one room) and PROBE_ROOM. A refusal the network
 * words as a numeric (chats_irc.c) answers what waits here: a topic or an
 * invitation per room (a flag on its struct room), a nick change per
 * account (NICK_TIMEOUT_S at most). */
#include "config.h"
#include "worker.h"

#include <string.h>

#include "chat_numerics.h"
#include "chats_internal.h"

struct pending_nick {
	guint32 account;
	guint timer;
};

static GList *nick_changes; /* struct pending_nick */
static int handle;

/* ---- topic, invitations, nick ------------------------------------------------------ */

/* A topic change was echoed or refused: nothing is awaited any more. */
static void topic_settled(struct room *room)
{
	room->topic_pending = false;
	g_clear_handle_id(&room->topic_timer, loop_timeout_remove);
}

static gboolean on_topic_timeout(gpointer data)
{
	PurpleConversation *conv = data;
	struct room *room = room_of(conv);
	struct account *account = account_of(conv);
	if (room == NULL)
		return G_SOURCE_REMOVE;
	room->topic_timer = 0;
	if (room->topic_pending && account != NULL) {
		room->topic_pending = false;
		g_message("account %u: %s: no answer to the topic change in %d s",
		          account_id(account), conv_name(conv), TOPIC_TIMEOUT_S);
		account_emit(account,
		             WORKER_FRAME(chat_error, .account = account_id(account),
		                          .room = conv_name(conv), .op = WORKER_CHAT_OP_TOPIC,
		                          .text = "no answer from the server"));
	}
	return G_SOURCE_REMOVE;
}

static void on_topic_changed(PurpleConversation *conv, const char *who, const char *topic,
                             gpointer data)
{
	struct room *room = room_of(conv);
	struct account *account = account_of(conv);
	if (room == NULL || account == NULL)
		return;
	if (who != NULL && *who != '\0') {
		g_free(room->topic_by);
		room->topic_by = g_strdup(who);
	}
	if (room->state == ROOM_JOINING && joined_at_subject(account)) {
		complete_join(conv); /* the subject ends a MUC join */
		return;
	}
	if (room->state != ROOM_JOINED)
		return; /* part of the join (CHAT_JOINED carries it), or a rejoin's reset */
	topic_settled(room);
	if (g_strcmp0(room->topic_sent, topic != NULL ? topic : "") == 0 &&
	    (who == NULL || *who == '\0'))
		return; /* nothing new */
	g_free(room->topic_sent);
	room->topic_sent = g_strdup(topic != NULL ? topic : "");
	account_emit(account, WORKER_FRAME(chat_topic, .account = account_id(account),
	                                   .room = conv_name(conv), .who = who ? who : "",
	                                   .topic = topic ? topic : ""));
}

void chats_topic_setter(struct account *account, const char *room_name, const char *who)
{
	struct room *room = room_of(find_chat(account, room_name));
	if (room != NULL && who != NULL) {
		g_free(room->topic_by);
		room->topic_by = g_strdup(who);
	}
}

void chats_on_set_chat_topic(void *data, const struct worker_msg_set_chat_topic *m)
{
	struct account *account = data;
	PurpleConversation *conv = find_chat(account, m->room);
	struct room *room = room_of(conv);
	PurplePluginProtocolInfo *info = prpl_of(gc_of(account));
	const char *error = NULL;
	if (room == NULL || room->state != ROOM_JOINED)
		error = "not in that room";
	else if (info == NULL || info->set_chat_topic == NULL)
		error = "this network cannot set a topic";
	else if (has_line_break(m->topic))
		error = "the topic contains a line break";
	if (error != NULL) {
		account_emit(account,
		             WORKER_FRAME(chat_error, .account = m->account, .room = m->room,
		                          .op = WORKER_CHAT_OP_TOPIC, .text = error));
		return;
	}
	room->topic_pending = true;
	g_clear_handle_id(&room->topic_timer, loop_timeout_remove);
	room->topic_timer = loop_timeout_add_seconds(TOPIC_TIMEOUT_S, on_topic_timeout, conv);
	info->set_chat_topic(gc_of(account), purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)),
	                     m->topic);
}

static gint on_chat_invited(PurpleAccount *pa, const char *inviter, const char *chat,
                            const char *message, GHashTable *components, gpointer data)
{
	struct account *account = accounts_find(pa);
	if (account == NULL || chat == NULL)
		return -1;
	const char *key = components != NULL ? g_hash_table_lookup(components, "password") : NULL;
	g_message("account %u: invited to %s", account_id(account), chat);
	account_emit(account,
	             WORKER_FRAME(chat_invited, .account = account_id(account), .room = chat,
	                          .inviter = inviter ? inviter : "",
	                          .message = message ? message : "", .key = key ? key : ""));
	return -1; /* declined here: the user joins through XMPP */
}

void chats_on_chat_invite(void *data, const struct worker_msg_chat_invite *m)
{
	struct account *account = data;
	PurpleConversation *conv = find_chat(account, m->room);
	struct room *room = room_of(conv);
	if (room == NULL || room->state != ROOM_JOINED) {
		account_emit(account,
		             WORKER_FRAME(chat_error, .account = m->account, .room = m->room,
		                          .op = WORKER_CHAT_OP_INVITE, .text = "not in that room"));
		return;
	}
	if (has_line_break(m->reason) || has_line_break(m->name)) {
		account_emit(account, WORKER_FRAME(chat_error, .account = m->account,
		                                   .room = m->room, .op = WORKER_CHAT_OP_INVITE,
		                                   .text = "the invitation contains a line break"));
		return;
	}
	room->invite_pending = true;
	serv_chat_invite(gc_of(account), purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)),
	                 *m->reason ? m->reason : NULL, m->name);
}

static void nick_free(struct pending_nick *n)
{
	g_clear_handle_id(&n->timer, loop_timeout_remove);
	g_free(n);
}

static struct pending_nick *nick_find(guint32 account)
{
	for (GList *l = nick_changes; l != NULL; l = l->next)
		if (((struct pending_nick *)l->data)->account == account)
			return l->data;
	return NULL;
}

static void nick_remove(struct pending_nick *n)
{
	nick_changes = g_list_remove(nick_changes, n);
	nick_free(n);
}

static gboolean on_nick_timeout(gpointer data)
{
	struct pending_nick *n = data;
	n->timer = 0;
	struct account *account = accounts_lookup(n->account);
	if (account != NULL) {
		g_message("account %u: no answer to the nick change in %d s", n->account,
		          NICK_TIMEOUT_S);
		account_emit(account, WORKER_FRAME(chat_error, .account = n->account, .room = "",
		                                   .op = WORKER_CHAT_OP_NICK,
		                                   .text = "no answer from the server"));
	}
	nick_remove(n);
	return G_SOURCE_REMOVE;
}

void chats_on_set_chat_nick(void *data, const struct worker_msg_set_chat_nick *m)
{
	struct account *account = data;
	PurpleConnection *gc = gc_of(account);
	PurplePluginProtocolInfo *info = prpl_of(gc);
	if (!account_is_connected(account) || account_is_test(account) || info == NULL) {
		account_emit(account,
		             WORKER_FRAME(chat_error, .account = m->account, .room = "",
		                          .op = WORKER_CHAT_OP_NICK, .text = "not connected"));
		return;
	}
	if (is_irc(account)) {
		if (strpbrk(m->nick, " \r\n:") != NULL || *m->nick == '\0') {
			account_emit(account, WORKER_FRAME(chat_error, .account = m->account,
			                                   .room = "", .op = WORKER_CHAT_OP_NICK,
			                                   .text = "invalid nick"));
			return;
		}
		g_autofree char *line = g_strdup_printf("NICK %s\r\n", m->nick);
		(void)info->send_raw(gc, line, (int)strlen(line));
		if (nick_find(m->account) == NULL) {
			struct pending_nick *n = g_new0(struct pending_nick, 1);
			n->account = m->account;
			n->timer = loop_timeout_add_seconds(NICK_TIMEOUT_S, on_nick_timeout, n);
			nick_changes = g_list_prepend(nick_changes, n);
		}
		return;
	}
	PurpleConversation *conv = find_chat(account, m->room);
	char *error = NULL;
	g_autofree char *cmd = g_strdup_printf("nick %s", m->nick);
	if (conv == NULL || purple_cmd_do_command(conv, cmd, cmd, &error) != PURPLE_CMD_STATUS_OK) {
		account_emit(account, WORKER_FRAME(chat_error, .account = m->account,
		                                   .room = m->room, .op = WORKER_CHAT_OP_NICK,
		                                   .text = error ? error : "the nick was refused"));
	}
	g_free(error);
}

bool chats_refused(struct account *account, guint32 op, const char *room_name, const char *text)
{
	if (op == WORKER_CHAT_OP_NICK) {
		struct pending_nick *n = nick_find(account_id(account));
		if (n == NULL)
			return false;
		nick_remove(n);
		account_emit(account, WORKER_FRAME(chat_error, .account = account_id(account),
		                                   .room = "", .op = op, .text = text));
		return true;
	}
	PurpleConversation *conv = room_name != NULL ? find_chat(account, room_name) : NULL;
	struct room *room = room_of(conv);
	if (room == NULL)
		return false;
	bool *flag = op == WORKER_CHAT_OP_TOPIC    ? &room->topic_pending
	             : op == WORKER_CHAT_OP_INVITE ? &room->invite_pending
	                                           : NULL;
	if (flag == NULL || !*flag)
		return false;
	*flag = false;
	if (op == WORKER_CHAT_OP_TOPIC)
		topic_settled(room);
	account_emit(account, WORKER_FRAME(chat_error, .account = account_id(account),
	                                   .room = conv_name(conv), .op = op, .text = text));
	return true;
}

/* ---- room probes --------------------------------------------------------------------- */

void chats_on_probe_room(void *data, const struct worker_msg_probe_room *m)
{
	struct account *account = data;
	if (g_strcmp0(purple_account_get_protocol_id(account_purple(account)), "prpl-jabber") ==
	    0) {
		chats_jabber_probe(account, m->room); /* a disco#info on the legacy server */
		return;
	}
	guint32 kind = WORKER_ROOM_UNKNOWN;
	if (is_irc(account))
		kind = chat_numeric_is_channel(m->room) ? WORKER_ROOM_ROOM : WORKER_ROOM_NOT_ROOM;
	account_emit(account, WORKER_FRAME(room_info, .account = m->account, .room = m->room,
	                                   .kind = kind, .name = m->room, .password = false));
}

void chats_nick_done(struct account *account)
{
	struct pending_nick *n = nick_find(account_id(account));
	if (n != NULL)
		nick_remove(n);
}

void chats_admin_account_gone(guint32 id)
{
	struct pending_nick *n = nick_find(id);
	if (n != NULL)
		nick_remove(n);
}

void chats_admin_install(void)
{
	void *conversations = purple_conversations_get_handle();
	purple_signal_connect(conversations, "chat-topic-changed", &handle,
	                      PURPLE_CALLBACK(on_topic_changed), NULL);
	purple_signal_connect(conversations, "chat-invited", &handle,
	                      PURPLE_CALLBACK(on_chat_invited), NULL);
}
