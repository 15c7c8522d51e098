/* chats_irc: what prpl-irc's raw lines tell about chats that libpurple
 * does not pass on (groupchat.md §3).
 *
 * - Join refusals: 471, 475, 405 and 476 make prpl-irc do nothing at all,
 *   403, 437, 473, 474 and 477 only a notification; the numeric answers the
 *   pending JOIN_CHAT (chats_join_failed) with its reason and text.
 * - Refusals of a nick change (433, 432, 437, 484), a topic (482, 442) or
 *   an invitation (482, 442, 443) answer what chats.c waits for.
 * - 333 names who set the topic, which libpurple drops.
 * - Kick, part and quit all reach us as a removal: the raw line being
 *   parsed says which, who and why. It is kept (chats_irc_current) for
 *   the handlers libpurple calls while it parses that line, and dropped
 *   once the main loop is idle again; the handlers also check that the
 *   line names their room and nick, so a line kept too long says nothing
 *   wrong. */
#include "config.h"
#include "worker.h"

#include <string.h>

#include "chat_numerics.h"
#include "chats_internal.h"

static struct irc_raw current;
static guint clear_idle;

static void current_clear(void)
{
	current.gc = NULL;
	g_clear_pointer(&current.nick, g_free);
	g_clear_pointer(&current.command, g_free);
	g_clear_pointer(&current.params, g_strfreev);
	current.n = 0;
}

static gboolean on_idle_clear(gpointer data)
{
	clear_idle = 0;
	current_clear();
	return G_SOURCE_REMOVE;
}

/* LINE (past its prefix) split into its command and parameters, the
 * trailing one included. */
static void split_line(const char *line)
{
	const char *trail = strstr(line, " :");
	g_autofree char *head =
	    trail != NULL ? g_strndup(line, (gsize)(trail - line)) : g_strdup(line);
	g_auto(GStrv) words = g_strsplit(head, " ", -1);
	GPtrArray *params = g_ptr_array_new();
	for (char **w = words; *w != NULL; w++) {
		if (**w == '\0')
			continue;
		if (current.command == NULL)
			current.command = g_strdup(*w);
		else
			g_ptr_array_add(params, g_strdup(*w));
	}
	if (trail != NULL)
		g_ptr_array_add(params, g_strdup(trail + 2));
	current.n = params->len;
	g_ptr_array_add(params, NULL);
	current.params = (char **)g_ptr_array_free(params, FALSE);
	if (current.command == NULL)
		current.command = g_strdup("");
}

static const char *trailing(void)
{
	return current.n > 0 ? current.params[current.n - 1] : "";
}

static void numeric(struct account *account)
{
	const char *cmd = current.command;
	const char *text = trailing();
	/* "NNN ournick #chan :text" */
	const char *room = current.n >= 3 ? current.params[1] : NULL;
	/* before the join refusals: 477 refuses a topic too */
	if (chat_numeric_refuses_topic(cmd) && room != NULL &&
	    chats_refused(account, WORKER_CHAT_OP_TOPIC, room, text))
		return;
	int failure = chat_numeric_join_failure(cmd);
	if (failure >= 0 && room != NULL &&
	    (strcmp(cmd, "437") != 0 || chat_numeric_is_channel(room))) {
		chats_join_failed(account, room, (guint32)failure, text);
		return;
	}
	if (chat_numeric_refuses_nick(cmd)) {
		const char *nick = current.n >= 2 ? current.params[current.n - 2] : "";
		g_autofree char *why = g_strdup_printf("%s: %s", nick, text);
		(void)chats_refused(account, WORKER_CHAT_OP_NICK, NULL, why);
		return;
	}
	if ((strcmp(cmd, "482") == 0 || strcmp(cmd, "442") == 0) && room != NULL) {
		(void)chats_refused(account, WORKER_CHAT_OP_INVITE, room, text);
		return;
	}
	if (strcmp(cmd, "443") == 0 && current.n >= 4) { /* "443 me nick #chan :..." */
		(void)chats_refused(account, WORKER_CHAT_OP_INVITE, current.params[2], text);
		return;
	}
	if (strcmp(cmd, "333") == 0 && current.n >= 3) { /* "333 me #chan setter[!u@h] time" */
		g_autofree char *who = g_strdup(current.params[2]);
		char *bang = strchr(who, '!');
		if (bang != NULL)
			*bang = '\0';
		chats_topic_setter(account, current.params[1], who);
	}
}

void chats_irc_line(struct account *account, PurpleConnection *gc, const char *nick,
                    const char *line)
{
	current_clear();
	current.gc = gc;
	current.nick = g_strdup(nick != NULL ? nick : "");
	split_line(line);
	if (clear_idle == 0)
		clear_idle = g_idle_add_full(G_PRIORITY_HIGH, on_idle_clear, NULL, NULL);
	if (g_ascii_isdigit(current.command[0]))
		numeric(account);
	else if (strcmp(current.command, "NICK") == 0 &&
	         same_name(current.nick, purple_connection_get_display_name(gc)))
		/* our change went through (prpl-irc parses it next), in a room
		 * or not: nothing is awaited any more */
		chats_nick_done(account);
}

const struct irc_raw *chats_irc_current(PurpleConnection *gc)
{
	return gc != NULL && current.gc == gc && current.command != NULL ? &current : NULL;
}
