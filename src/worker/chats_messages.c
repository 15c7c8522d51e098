/* chats_messages: what is said in rooms -- SEND_CHAT and the chat lines
 * libpurple writes (write_chat), turned into CHAT_MESSAGE.
 *
 * prpl-irc's messages go through sendq.c (paced, fenced, echoed on the
 * PONG); other protocols' through serv_chat_send, echoed when the room
 * reflects them (a FIFO of seqs per room). A SEND-flagged line is never a
 * second message; system lines are never messages; a channel NOTICE goes
 * up as a NOTICE titled with the room. Part of chats.c. */
#include "config.h"
#include "chats_internal.h"

#include <string.h>

static void im_failed(guint32 account, guint32 seq, guint32 reason, const char *error)
{
	channel_send(WORKER_FRAME(im_result, .account = account, .seq = seq, .sent = false,
	                          .reason = reason, .error = error, .lines = 1));
}

void chats_on_send_chat(void *data, const struct worker_msg_send_chat *m)
{
	struct account *account = data;
	if (account_is_test(account) || !account_is_connected(account)) {
		im_failed(m->account, m->seq, WORKER_IM_NOT_CONNECTED, "not connected");
		return;
	}
	PurpleConversation *conv = find_chat(account, m->room);
	struct room *room = room_of(conv);
	if (room == NULL || room->state != ROOM_JOINED) {
		im_failed(m->account, m->seq, WORKER_IM_FAILED, "not in that room");
		return;
	}
	if (account_sendq(account) != NULL) {
		/* split, paced, fenced; echoed (CHAT_MESSAGE) at its PONG */
		sendq_push_chat(account_sendq(account), m->seq, conv_name(conv), m->text,
		                m->max_lines);
		return;
	}
	int result = 0;
	if (g_str_has_prefix(m->text, "/me ")) {
		/* the prpl's own /me, an action of its network; where it has none
		 * (prpl-jabber: XMPP carries "/me " in the body, XEP-0245; the
		 * "me" command libpurple knows is prpl-irc's) the text goes as
		 * it is */
		char *error = NULL;
		g_autofree char *cmd = g_strdup(m->text + 1);
		PurpleCmdStatus status = purple_cmd_do_command(conv, cmd, cmd, &error);
		if (status == PURPLE_CMD_STATUS_OK)
			result = 1;
		else if (status != PURPLE_CMD_STATUS_NOT_FOUND &&
		         status != PURPLE_CMD_STATUS_WRONG_PRPL &&
		         status != PURPLE_CMD_STATUS_WRONG_TYPE)
			result = -1;
		g_free(error);
	}
	if (result == 0)
		/* serv_chat_send, not purple_conv_chat_send: the latter linkifies
		 * HTML protocols' text (URLs become <a> markup) */
		result =
		    serv_chat_send(gc_of(account), purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)),
		                   m->text, PURPLE_MESSAGE_SEND);
	if (result <= 0) {
		/* as SEND_IM (commands.c): 0 is not sent either (prpl-jabber: no
		 * chat of that id), never to be reflected as taken */
		im_failed(m->account, m->seq, WORKER_IM_FAILED, "the protocol refused the message");
		return;
	}
	if (room->echoes.length >= ECHO_FIFO_MAX)
		(void)g_queue_pop_head(&room->echoes); /* never reflected: the gateway's 10 s */
	g_queue_push_tail(&room->echoes, GUINT_TO_POINTER(m->seq));
	account_sent(account, m->seq);
}

/* A channel NOTICE: prpl-irc writes it as an occupant's line with a
 * "(notice) " prefix. */
static bool is_notice(struct account *account, PurpleConversation *conv, const char *message)
{
	if (!is_irc(account))
		return false;
	if (raw_line(account, "NOTICE", conv, 0) != NULL)
		return true;
	return raw_line(account, "PRIVMSG", conv, 0) == NULL &&
	       g_str_has_prefix(message, "(notice) ");
}

void chats_write_chat(PurpleConversation *conv, const char *who, const char *message,
                      PurpleMessageFlags flags, time_t mtime)
{
	struct account *account = account_of(conv);
	struct room *room = room_of(conv);
	count_line(conv);
	if (account == NULL || room == NULL || message == NULL)
		return;
	if ((flags & (PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_ERROR)) || who == NULL ||
	    *who == '\0') {
		if (WORKER_DEBUG_ON())
			g_debug("%s: system line (flags 0x%x) not relayed", conv_name(conv),
			        (unsigned)flags);
		return;
	}
	if (room->state != ROOM_JOINED)
		return;
	guint32 seq = 0;
	if (flags & PURPLE_MESSAGE_SEND) {
		if (is_irc(account))
			return; /* our own line: echoed by sendq.c at its PONG */
		seq = GPOINTER_TO_UINT(g_queue_pop_head(&room->echoes));
	} else if (is_notice(account, conv, message)) {
		g_autofree char *plain = purple_markup_strip_html(message);
		const char *text = g_str_has_prefix(plain, "(notice) ") ? plain + 9 : plain;
		g_autofree char *full = g_strdup_printf("%s: %s", who, text);
		requests_notice(account_purple(account), conv_name(conv), full);
		return;
	}
	account_emit(
	    account,
	    WORKER_FRAME(chat_message, .account = account_id(account), .room = conv_name(conv),
	                 .nick = who, .text = message, .when = mtime, .seq = seq,
	                 .flags = (flags & PURPLE_MESSAGE_DELAYED) ? WORKER_CHAT_MSG_DELAYED : 0));
}
