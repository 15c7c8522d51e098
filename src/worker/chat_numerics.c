/* chat_numerics: IRC numerics -> group chat answers (see chat_numerics.h).
 * groupchat.md §3: prpl-irc does nothing at all with 471, 475, 405 and
 * 476, and only notifies 403, 437, 473, 474 and 477, so the worker reads
 * them off the raw line. */
#include "config.h"

#include "chat_numerics.h"

#include <string.h>

#include "ferry/worker_protocol.h"

int chat_numeric_join_failure(const char *numeric)
{
	static const struct {
		const char *numeric;
		int reason;
	} table[] = {
	    {"471", WORKER_CHAT_FAIL_FULL},        /* ERR_CHANNELISFULL (+l) */
	    {"473", WORKER_CHAT_FAIL_INVITE_ONLY}, /* ERR_INVITEONLYCHAN (+i) */
	    {"474", WORKER_CHAT_FAIL_BANNED},      /* ERR_BANNEDFROMCHAN (+b) */
	    {"475", WORKER_CHAT_FAIL_KEY},         /* ERR_BADCHANNELKEY (+k) */
	    {"477", WORKER_CHAT_FAIL_INVITE_ONLY}, /* registered nicks only */
	    {"403", WORKER_CHAT_FAIL_NO_ROOM},     /* ERR_NOSUCHCHANNEL */
	    {"476", WORKER_CHAT_FAIL_NO_ROOM},     /* ERR_BADCHANMASK */
	    {"405", WORKER_CHAT_FAIL_FULL},        /* ERR_TOOMANYCHANNELS */
	    {"437", WORKER_CHAT_FAIL_OTHER},       /* ERR_UNAVAILRESOURCE */
	};
	for (gsize i = 0; i < G_N_ELEMENTS(table); i++)
		if (g_strcmp0(numeric, table[i].numeric) == 0)
			return table[i].reason;
	return -1;
}

bool chat_numeric_refuses_nick(const char *numeric)
{
	static const char *const nick[] = {"432", "433", "437", "484", "435", "438", "447"};
	for (gsize i = 0; i < G_N_ELEMENTS(nick); i++)
		if (g_strcmp0(numeric, nick[i]) == 0)
			return true;
	return false;
}

bool chat_numeric_refuses_topic(const char *numeric)
{
	static const char *const topic[] = {"482", "442", "477", "489"};
	for (gsize i = 0; i < G_N_ELEMENTS(topic); i++)
		if (g_strcmp0(numeric, topic[i]) == 0)
			return true;
	return false;
}

bool chat_numeric_is_channel(const char *name)
{
	return name != NULL && *name != '\0' && strchr("#&+!", *name) != NULL;
}
