/* chats: group chats (rooms) -- the commands JOIN_CHAT ... PROBE_ROOM and
 * what libpurple reports about chats (the chat conversation ops and the
 * chat signals), turned into the CHAT_* events of worker_protocol.h.
 *
 * A room is a libpurple chat conversation, found by (account, name) with
 * purple_find_conversation_with_account (never by its numeric id: prpl-irc
 * hands out a new one on every join). What the worker keeps about it hangs
 * on the conversation (struct room, purple_conversation_set_data) and dies
 * with it; an occupant's last reported flags hang on its
 * PurpleConvChatBuddy (ui_data), so nothing grows but what libpurple
 * itself holds. Joins asked for and not yet answered wait in PENDING, each
 * with its own 30 s timer.
 *
 * Join answer: chat-joined starts a room JOINING; the first add-users
 * batch that lists our own nick completes it (IRC: the NAMES batch, which
 * has everyone; prpl-jabber: our own presence, which comes last), or a
 * 5 s timer does: every occupant goes up as CHAT_OCCUPANT, then
 * CHAT_JOINED with the topic. Occupant events before that, and after the
 * room was left (a rejoin first removes the stale occupants), are not
 * sent.
 *
 * Messages: chats_messages.c. IRC kicks, parts and quits are told apart by the raw
 * line being parsed (chats_irc.c). */
#include "config.h"
#include "worker.h"

#include <string.h>

#include "chat_numerics.h"
#include "chats_internal.h"

struct pending_join {
	guint32 account;
	char *room;   /* as asked */
	char *folded; /* g_utf8_casefold(room) */
	guint timer;
	/* prpl-jabber: deferred while the room's previous chat still waits
	 * for its unavailable (jabber_chat_new refuses a second one) */
	bool deferred;
	char *key, *nick;
	guint start_idle;
};

/* A prpl-jabber room we left whose unavailable has not come back yet
 * (at most PART_WAIT_S). */
struct parting {
	guint32 account;
	char *folded;
	guint timer;
};

#define PART_WAIT_S 10

static int handle;
static GList *pending;  /* struct pending_join */
static GList *partings; /* struct parting */
static bool left_seen;  /* a chat-left was reported (see chats_on_leave_chat) */
/* events.c's write_conv, for the conversations that are not chats */
static void (*im_write_conv)(PurpleConversation *, const char *, const char *, const char *,
                             PurpleMessageFlags, time_t);

/* ---- helpers ------------------------------------------------------------------- */

PurpleConnection *gc_of(struct account *account)
{
	return purple_account_get_connection(account_purple(account));
}

PurplePluginProtocolInfo *prpl_of(PurpleConnection *gc)
{
	PurplePlugin *prpl = gc != NULL ? purple_connection_get_prpl(gc) : NULL;
	return prpl != NULL ? PURPLE_PLUGIN_PROTOCOL_INFO(prpl) : NULL;
}

bool is_irc(struct account *account)
{
	return g_strcmp0(purple_account_get_protocol_id(account_purple(account)), "prpl-irc") == 0;
}

PurpleConversation *find_chat(struct account *account, const char *name)
{
	return purple_find_conversation_with_account(PURPLE_CONV_TYPE_CHAT, name,
	                                             account_purple(account));
}

struct room *room_of(PurpleConversation *conv)
{
	return conv != NULL ? purple_conversation_get_data(conv, ROOM_KEY) : NULL;
}

static void room_free(struct room *room)
{
	g_clear_handle_id(&room->names_timer, loop_timeout_remove);
	g_clear_handle_id(&room->topic_timer, loop_timeout_remove);
	g_queue_clear(&room->echoes);
	g_free(room->asked);
	g_free(room->topic_by);
	g_free(room->topic_sent);
	g_free(room);
}

static struct room *room_ensure(PurpleConversation *conv)
{
	struct room *room = room_of(conv);
	if (room == NULL) {
		room = g_new0(struct room, 1);
		room->state = ROOM_LEFT;
		room->asked = g_strdup("");
		g_queue_init(&room->echoes);
		purple_conversation_set_data(conv, ROOM_KEY, room);
	}
	return room;
}

/* The account behind CONV, when it is ours and alive. */
struct account *account_of(PurpleConversation *conv)
{
	return accounts_find(purple_conversation_get_account(conv));
}

/* A MUC ends its join answer with the subject (XEP-0045 7.2.15, empty
 * when none): prpl-jabber's rooms are joined at the subject. */
bool joined_at_subject(struct account *account)
{
	return g_strcmp0(purple_account_get_protocol_id(account_purple(account)), "prpl-jabber") ==
	       0;
}

const char *conv_name(PurpleConversation *conv)
{
	return purple_conversation_get_name(conv);
}

/* Our nick in CONV. prpl-irc lower-cases the chat's own nick (it is the
 * normalized one): the connection's display name is the server's
 * spelling. */
static const char *our_nick(struct account *account, PurpleConversation *conv)
{
	if (is_irc(account)) {
		const char *name = purple_connection_get_display_name(gc_of(account));
		if (name != NULL)
			return name;
	}
	const char *nick = purple_conv_chat_get_nick(PURPLE_CONV_CHAT(conv));
	return nick != NULL ? nick : "";
}

bool same_name(const char *a, const char *b)
{
	return a != NULL && b != NULL && purple_utf8_strcasecmp(a, b) == 0;
}

bool has_line_break(const char *text)
{
	return text != NULL && strpbrk(text, "\r\n") != NULL;
}

/* The raw IRC line being parsed when it is COMMAND and its parameter AT
 * (-1: none) names CONV's room. */
const struct irc_raw *raw_line(struct account *account, const char *command,
                               PurpleConversation *conv, int at)
{
	const struct irc_raw *raw = chats_irc_current(gc_of(account));
	if (raw == NULL || strcmp(raw->command, command) != 0)
		return NULL;
	if (at >= 0 && ((guint)at >= raw->n || !same_name(raw->params[at], conv_name(conv))))
		return NULL;
	return raw;
}

/* libpurple keeps every line written into a conversation in a history
 * list that only grows; nobody reads it here. */
void count_line(PurpleConversation *conv)
{
	struct room *room = room_of(conv);
	if (room != NULL && ++room->lines >= HISTORY_EVERY) {
		room->lines = 0;
		if (WORKER_DEBUG_ON())
			g_debug("%s: history cleared (%u entries)", conv_name(conv),
			        g_list_length(purple_conversation_get_message_history(conv)));
		purple_conversation_clear_message_history(conv);
	}
}

/* ---- occupants ----------------------------------------------------------------- */

static void report_occupant(struct account *account, PurpleConversation *conv,
                            PurpleConvChatBuddy *cb, bool always)
{
	guint32 flags = (guint32)cb->flags & FLAGS_MASK;
	guint32 mark = flags | FLAGS_SENT;
	if (!always && GPOINTER_TO_UINT(cb->ui_data) == mark)
		return; /* a WHO reply re-fires chat_update_user unchanged */
	cb->ui_data = GUINT_TO_POINTER(mark);
	PurpleConnection *gc = gc_of(account);
	PurplePluginProtocolInfo *info = prpl_of(gc);
	g_autofree char *pm = NULL;
	if (info != NULL && info->get_cb_real_name != NULL)
		pm = info->get_cb_real_name(gc, purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)),
		                            cb->name);
	account_emit(account,
	             WORKER_FRAME(chat_occupant, .account = account_id(account),
	                          .room = conv_name(conv), .nick = cb->name, .flags = flags,
	                          .real = "", .pm = pm != NULL ? pm : cb->name));
}

/* The whole state: every occupant, then CHAT_JOINED. */
static void report_joined(struct account *account, PurpleConversation *conv)
{
	struct room *room = room_of(conv);
	PurpleConvChat *chat = PURPLE_CONV_CHAT(conv);
	for (GList *l = purple_conv_chat_get_users(chat); l != NULL; l = l->next)
		report_occupant(account, conv, l->data, true);
	const char *nick = purple_conv_chat_get_nick(chat);
	if (nick == NULL || !purple_conv_chat_find_user(chat, nick)) {
		/* no occupant list came (a server that sends no NAMES): we at
		 * least are there */
		const char *ours = our_nick(account, conv);
		account_emit(account, WORKER_FRAME(chat_occupant, .account = account_id(account),
		                                   .room = conv_name(conv), .nick = ours,
		                                   .flags = 0, .real = "", .pm = ours));
	}
	const char *topic = purple_conv_chat_get_topic(chat);
	g_free(room->topic_sent);
	room->topic_sent = g_strdup(topic != NULL ? topic : "");
	account_emit(account,
	             WORKER_FRAME(chat_joined, .account = account_id(account),
	                          .room = conv_name(conv), .asked = room->asked,
	                          .nick = our_nick(account, conv), .topic = topic ? topic : "",
	                          .topic_by = room->topic_by != NULL ? room->topic_by : ""));
}

void complete_join(PurpleConversation *conv)
{
	struct room *room = room_of(conv);
	struct account *account = account_of(conv);
	if (room == NULL || room->state != ROOM_JOINING || account == NULL)
		return;
	g_clear_handle_id(&room->names_timer, loop_timeout_remove);
	room->state = ROOM_JOINED;
	g_message("account %u: joined %s (%u occupants)", account_id(account), conv_name(conv),
	          g_list_length(purple_conv_chat_get_users(PURPLE_CONV_CHAT(conv))));
	report_joined(account, conv);
}

static gboolean on_names_timeout(gpointer data)
{
	PurpleConversation *conv = data;
	struct room *room = room_of(conv);
	if (room != NULL)
		room->names_timer = 0;
	g_debug("%s: no complete occupant list in %d s: joined with what is known", conv_name(conv),
	        NAMES_TIMEOUT_S);
	complete_join(conv);
	return G_SOURCE_REMOVE;
}

static void chat_add_users(PurpleConversation *conv, GList *cbuddies, gboolean new_arrivals)
{
	struct room *room = room_of(conv);
	struct account *account = account_of(conv);
	if (room == NULL || account == NULL)
		return;
	if (room->state == ROOM_JOINING) {
		if (joined_at_subject(account))
			return;
		PurpleConvChat *chat = PURPLE_CONV_CHAT(conv);
		const char *nick = purple_conv_chat_get_nick(chat);
		if (nick != NULL && purple_conv_chat_find_user(chat, nick))
			complete_join(conv);
		return;
	}
	if (room->state != ROOM_JOINED)
		return;
	for (GList *l = cbuddies; l != NULL; l = l->next)
		report_occupant(account, conv, l->data, true);
}

static void chat_update_user(PurpleConversation *conv, const char *user)
{
	struct room *room = room_of(conv);
	struct account *account = account_of(conv);
	if (room == NULL || account == NULL || room->state != ROOM_JOINED)
		return;
	PurpleConvChatBuddy *cb = purple_conv_chat_cb_find(PURPLE_CONV_CHAT(conv), user);
	if (cb != NULL)
		report_occupant(account, conv, cb, false);
}

static void chat_rename_user(PurpleConversation *conv, const char *old, const char *new_name,
                             const char *new_alias)
{
	struct room *room = room_of(conv);
	struct account *account = account_of(conv);
	if (room == NULL || account == NULL || room->state != ROOM_JOINED)
		return;
	/* prpl-irc renames us after it took the new display name: our change
	 * went through, no refusal is awaited any more */
	if (same_name(new_name, purple_connection_get_display_name(gc_of(account))))
		chats_nick_done(account);
	account_emit(account, WORKER_FRAME(chat_renamed, .account = account_id(account),
	                                   .room = conv_name(conv), .old = old, .nick = new_name));
}

static void chat_remove_users(PurpleConversation *conv, GList *users)
{
	/* reported by chat-buddy-left, which carries the reason */
}

/* Someone else left: how, by whom and why, from the raw IRC line being
 * parsed when there is one. */
static void on_chat_buddy_left(PurpleConversation *conv, const char *name, const char *reason,
                               gpointer data)
{
	struct room *room = room_of(conv);
	struct account *account = account_of(conv);
	if (room == NULL || account == NULL || room->state != ROOM_JOINED || name == NULL)
		return;
	guint32 how = WORKER_CHAT_LEFT_PART;
	const char *actor = "";
	g_autofree char *why = reason != NULL ? purple_markup_strip_html(reason) : g_strdup("");
	const struct irc_raw *kick = raw_line(account, "KICK", conv, 0);
	const struct irc_raw *quit = raw_line(account, "QUIT", conv, -1);
	const struct irc_raw *part = raw_line(account, "PART", conv, 0);
	if (kick != NULL && kick->n >= 2 && same_name(kick->params[1], name)) {
		how = WORKER_CHAT_LEFT_KICK;
		actor = kick->nick;
		g_free(why);
		why = g_strdup(kick->n >= 3 ? kick->params[2] : "");
	} else if (quit != NULL && same_name(quit->nick, name)) {
		how = WORKER_CHAT_LEFT_QUIT;
		g_free(why);
		why = g_strdup(quit->n >= 1 ? quit->params[0] : "");
	} else if (part != NULL && same_name(part->nick, name)) {
		g_free(why);
		why = g_strdup(part->n >= 2 ? part->params[1] : "");
	} else {
		const char *by, *words;
		if (chats_jabber_kick(account_id(account), conv_name(conv), name, &by, &words)) {
			how = WORKER_CHAT_LEFT_KICK;
			actor = by;
			g_free(why);
			why = g_strdup(words);
		}
	}
	account_emit(account, WORKER_FRAME(chat_occupant_left, .account = account_id(account),
	                                   .room = conv_name(conv), .nick = name, .how = how,
	                                   .actor = actor, .reason = why));
}

/* ---- joining and leaving ----------------------------------------------------------- */

static void pending_free(struct pending_join *p)
{
	g_clear_handle_id(&p->timer, loop_timeout_remove);
	g_clear_handle_id(&p->start_idle, g_source_remove);
	g_free(p->room);
	g_free(p->folded);
	g_free(p->key);
	g_free(p->nick);
	g_free(p);
}

static struct pending_join *pending_find(guint32 account, const char *room)
{
	g_autofree char *folded = g_utf8_casefold(room, -1);
	for (GList *l = pending; l != NULL; l = l->next) {
		struct pending_join *p = l->data;
		if (p->account == account && strcmp(p->folded, folded) == 0)
			return p;
	}
	return NULL;
}

static void pending_remove(struct pending_join *p)
{
	pending = g_list_remove(pending, p);
	pending_free(p);
}

static gboolean on_join_timeout(gpointer data)
{
	struct pending_join *p = data;
	p->timer = 0;
	struct account *account = accounts_lookup(p->account);
	if (account != NULL) {
		g_message("account %u: no answer to the join of %s in %d s", p->account, p->room,
		          JOIN_TIMEOUT_S);
		account_emit(account,
		             WORKER_FRAME(chat_join_failed, .account = p->account, .room = p->room,
		                          .reason = WORKER_CHAT_FAIL_NETWORK,
		                          .text = "no answer from the server"));
	}
	pending_remove(p);
	return G_SOURCE_REMOVE;
}

void chats_join_failed(struct account *account, const char *room, guint32 reason, const char *text)
{
	struct pending_join *p = pending_find(account_id(account), room);
	if (p == NULL) {
		g_debug("account %u: a join refusal for %s, which we did not ask for",
		        account_id(account), room);
		return;
	}
	g_message("account %u: join of %s refused (%u): %s", account_id(account), p->room, reason,
	          text);
	account_emit(account, WORKER_FRAME(chat_join_failed, .account = account_id(account),
	                                   .room = p->room, .reason = reason, .text = text));
	pending_remove(p);
}

static void join_failed_now(struct worker_msg_join_chat const *m, struct account *account,
                            guint32 reason, const char *text)
{
	account_emit(account, WORKER_FRAME(chat_join_failed, .account = m->account, .room = m->room,
	                                   .reason = reason, .text = text));
}

/* The join parameters: the protocol's defaults for the name, our key and
 * nick where it takes them. A table of our own (the prpl's may free its
 * keys or not). */
static GHashTable *join_components(PurpleConnection *gc, PurplePluginProtocolInfo *info,
                                   const struct worker_msg_join_chat *m)
{
	GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTable *defaults =
	    info->chat_info_defaults != NULL ? info->chat_info_defaults(gc, m->room) : NULL;
	if (defaults != NULL) {
		GHashTableIter iter;
		gpointer k, v;
		g_hash_table_iter_init(&iter, defaults);
		while (g_hash_table_iter_next(&iter, &k, &v))
			if (v != NULL)
				g_hash_table_insert(table, g_strdup(k), g_strdup(v));
		g_hash_table_destroy(defaults);
	} else if (info->chat_info != NULL) {
		/* the first entry names the room (IRC "channel", ...) */
		GList *entries = info->chat_info(gc);
		if (entries != NULL) {
			struct proto_chat_entry *pce = entries->data;
			g_hash_table_insert(table, g_strdup(pce->identifier), g_strdup(m->room));
		}
		g_list_free_full(entries, g_free);
	}
	if (*m->key != '\0')
		g_hash_table_insert(table, g_strdup("password"), g_strdup(m->key));
	if (g_str_equal(purple_account_get_protocol_id(purple_connection_get_account(gc)),
	                "prpl-jabber"))
		/* no history: ferry keeps and replays none */
		g_hash_table_insert(table, g_strdup("history_maxstanzas"), g_strdup("0"));
	if (*m->nick != '\0' &&
	    !g_str_equal(purple_account_get_protocol_id(purple_connection_get_account(gc)),
	                 "prpl-irc"))
		g_hash_table_insert(table, g_strdup("handle"), g_strdup(m->nick));
	return table;
}

static struct parting *parting_find(guint32 account, const char *folded)
{
	for (GList *l = partings; l != NULL; l = l->next) {
		struct parting *pt = l->data;
		if (pt->account == account && strcmp(pt->folded, folded) == 0)
			return pt;
	}
	return NULL;
}

static void start_join(PurpleConnection *gc, PurplePluginProtocolInfo *info,
                       const struct worker_msg_join_chat *m)
{
	g_message("account %u: joining %s%s", m->account, m->room, *m->key ? " with a key" : "");
	GHashTable *components = join_components(gc, info, m);
	serv_join_chat(gc, components);
	g_hash_table_destroy(components);
}

void chats_on_join_chat(void *data, const struct worker_msg_join_chat *m)
{
	struct account *account = data;
	if (account_is_test(account) || !account_is_connected(account)) {
		join_failed_now(m, account, WORKER_CHAT_FAIL_NETWORK,
		                account_is_test(account) ? "a test login joins no rooms"
		                                         : "not connected");
		return;
	}
	if (has_line_break(m->room)) {
		join_failed_now(m, account, WORKER_CHAT_FAIL_NO_ROOM,
		                "the room name contains a line break");
		return;
	}
	if (has_line_break(m->key)) {
		join_failed_now(m, account, WORKER_CHAT_FAIL_OTHER,
		                "the room password contains a line break");
		return;
	}
	/* prpl-irc writes "JOIN name key": a space or comma would join other
	 * channels (or give another key), BEL is no channel name's (RFC 2812
	 * 1.3) */
	if (is_irc(account) && strpbrk(m->room, " ,\a") != NULL) {
		join_failed_now(m, account, WORKER_CHAT_FAIL_NO_ROOM, "not a channel name");
		return;
	}
	if (is_irc(account) && strpbrk(m->key, " ,") != NULL) {
		join_failed_now(m, account, WORKER_CHAT_FAIL_KEY,
		                "a channel key holds no space or comma");
		return;
	}
	PurpleConversation *conv = find_chat(account, m->room);
	struct room *room = room_of(conv);
	if (room != NULL && room->state != ROOM_LEFT &&
	    !purple_conv_chat_has_left(PURPLE_CONV_CHAT(conv))) {
		g_free(room->asked);
		room->asked = g_strdup(m->room);
		if (room->state == ROOM_JOINED) /* a resync: the whole state again */
			report_joined(account, conv);
		return; /* JOINING: answered when complete */
	}
	if (pending_find(m->account, m->room) != NULL)
		return; /* already asked: one answer for both */
	PurpleConnection *gc = gc_of(account);
	PurplePluginProtocolInfo *info = prpl_of(gc);
	if (info == NULL || info->join_chat == NULL) {
		join_failed_now(m, account, WORKER_CHAT_FAIL_OTHER,
		                "this network has no group chats");
		return;
	}
	struct pending_join *p = g_new0(struct pending_join, 1);
	p->account = m->account;
	p->room = g_strdup(m->room);
	p->folded = g_utf8_casefold(m->room, -1);
	p->timer = loop_timeout_add_seconds(JOIN_TIMEOUT_S, on_join_timeout, p);
	pending = g_list_prepend(pending, p);
	if (parting_find(m->account, p->folded) != NULL) {
		/* still bounded by the 30 s above */
		p->deferred = true;
		p->key = g_strdup(m->key);
		p->nick = g_strdup(m->nick);
		g_message("account %u: joining %s once its last part is over", m->account, m->room);
		return;
	}
	start_join(gc, info, m);
}

/* A deferred join: the room's previous chat is gone now (prpl-jabber
 * destroyed it after the handlers of its unavailable: an idle later). */
static gboolean on_start_join(gpointer data)
{
	struct pending_join *p = data;
	p->start_idle = 0;
	p->deferred = false;
	struct account *account = accounts_lookup(p->account);
	PurpleConnection *gc = account != NULL ? gc_of(account) : NULL;
	PurplePluginProtocolInfo *info = prpl_of(gc);
	if (account == NULL || !account_is_connected(account) || info == NULL)
		return G_SOURCE_REMOVE; /* the 30 s timer answers */
	struct worker_msg_join_chat m = {
	    .account = p->account, .room = p->room, .key = p->key, .nick = p->nick};
	start_join(gc, info, &m);
	return G_SOURCE_REMOVE;
}

static void parting_free(struct parting *pt)
{
	partings = g_list_remove(partings, pt);
	g_clear_handle_id(&pt->timer, loop_timeout_remove);
	g_free(pt->folded);
	g_free(pt);
}

/* The part of FOLDED is over (or waited for long enough): the join
 * deferred behind it starts. */
static void parting_end(struct parting *pt)
{
	for (GList *l = pending; l != NULL; l = l->next) {
		struct pending_join *p = l->data;
		if (p->account == pt->account && p->deferred && p->start_idle == 0 &&
		    strcmp(p->folded, pt->folded) == 0)
			p->start_idle = g_idle_add(on_start_join, p);
	}
	parting_free(pt);
}

static gboolean on_parting_timeout(gpointer data)
{
	struct parting *pt = data;
	pt->timer = 0;
	g_debug("account %u: no unavailable for %s in %d s", pt->account, pt->folded, PART_WAIT_S);
	parting_end(pt);
	return G_SOURCE_REMOVE;
}

void chats_parted(guint32 account, const char *room)
{
	g_autofree char *folded = g_utf8_casefold(room, -1);
	struct parting *pt = parting_find(account, folded);
	if (pt != NULL)
		parting_end(pt);
}

static void on_chat_joined(PurpleConversation *conv, gpointer data)
{
	struct account *account = account_of(conv);
	if (account == NULL)
		return;
	struct room *room = room_ensure(conv);
	struct pending_join *p = pending_find(account_id(account), conv_name(conv));
	g_free(room->asked);
	room->asked = g_strdup(p != NULL ? p->room : "");
	if (p != NULL)
		pending_remove(p);
	else
		g_message("account %u: in %s without asking (the server joined us)",
		          account_id(account), conv_name(conv));
	g_clear_pointer(&room->topic_by, g_free);
	room->state = ROOM_JOINING;
	g_clear_handle_id(&room->names_timer, loop_timeout_remove);
	room->names_timer = loop_timeout_add_seconds(NAMES_TIMEOUT_S, on_names_timeout, conv);
	/* prpl-jabber may list the occupants and us before this signal */
	PurpleConvChat *chat = PURPLE_CONV_CHAT(conv);
	const char *nick = purple_conv_chat_get_nick(chat);
	if (!is_irc(account) && !joined_at_subject(account) && nick != NULL &&
	    purple_conv_chat_find_user(chat, nick))
		complete_join(conv);
}

/* A prpl that says a join failed (prpl-jabber; IRC never does): what
 * did not answer it already (chats_irc.c, chats_jabber.c) is answered
 * now. */
static void on_chat_join_failed(PurpleConnection *gc, GHashTable *components, gpointer data)
{
	struct account *account = accounts_find(purple_connection_get_account(gc));
	PurplePluginProtocolInfo *info = prpl_of(gc);
	if (account == NULL || info == NULL || info->get_chat_name == NULL || components == NULL)
		return;
	g_autofree char *name = info->get_chat_name(components);
	if (name != NULL && pending_find(account_id(account), name) != NULL)
		chats_join_failed(account, name, WORKER_CHAT_FAIL_OTHER, "the join failed");
}

static void on_chat_left(PurpleConversation *conv, gpointer data)
{
	struct room *room = room_of(conv);
	struct account *account = account_of(conv);
	if (room == NULL || account == NULL || room->state == ROOM_LEFT)
		return;
	room->state = ROOM_LEFT;
	left_seen = true;
	g_clear_handle_id(&room->names_timer, loop_timeout_remove);
	g_queue_clear(&room->echoes);
	guint32 how = WORKER_CHAT_LEFT_PART;
	const char *actor = "", *reason = "";
	const struct irc_raw *raw = raw_line(account, "KICK", conv, 0);
	if (raw != NULL && raw->n >= 2) {
		how = WORKER_CHAT_LEFT_KICK;
		actor = raw->nick;
		reason = raw->n >= 3 ? raw->params[2] : "";
	} else if (chats_jabber_kick(account_id(account), conv_name(conv), NULL, &actor, &reason)) {
		how = WORKER_CHAT_LEFT_KICK;
	}
	g_message("account %u: left %s (%u)", account_id(account), conv_name(conv), how);
	account_emit(account, WORKER_FRAME(chat_left, .account = account_id(account),
	                                   .room = conv_name(conv), .how = how, .actor = actor,
	                                   .reason = reason));
}

static void on_deleting_conversation(PurpleConversation *conv, gpointer data)
{
	struct room *room = room_of(conv);
	if (room == NULL)
		return;
	purple_conversation_set_data(conv, ROOM_KEY, NULL);
	room_free(room);
}

void chats_on_leave_chat(void *data, const struct worker_msg_leave_chat *m)
{
	struct account *account = data;
	struct pending_join *p = pending_find(m->account, m->room);
	if (p != NULL)
		pending_remove(p);
	PurpleConversation *conv = find_chat(account, m->room);
	if (conv == NULL) {
		g_debug("account %u: leave %s: not in it", m->account, m->room);
		return;
	}
	struct room *room = room_of(conv);
	bool was_in = room != NULL && room->state != ROOM_LEFT;
	g_autofree char *name = g_strdup(conv_name(conv));
	/* leaves (IRC: PART) and emits chat-left, which reports it */
	left_seen = false;
	if (was_in && joined_at_subject(account)) {
		/* prpl-jabber keeps the chat until the room's unavailable comes
		 * back, and refuses a new join of it meanwhile */
		g_autofree char *folded = g_utf8_casefold(name, -1);
		if (parting_find(m->account, folded) == NULL) {
			struct parting *pt = g_new0(struct parting, 1);
			pt->account = m->account;
			pt->folded = g_steal_pointer(&folded);
			pt->timer = loop_timeout_add_seconds(PART_WAIT_S, on_parting_timeout, pt);
			partings = g_list_prepend(partings, pt);
		}
	}
	purple_conversation_destroy(conv);
	if (was_in && !left_seen)
		account_emit(account,
		             WORKER_FRAME(chat_left, .account = m->account, .room = name,
		                          .how = WORKER_CHAT_LEFT_PART, .actor = "", .reason = ""));
}

/* ---- the end of an account ----------------------------------------------------------- */

void chats_account_gone(guint32 id)
{
	for (GList *l = pending; l != NULL;) {
		GList *next = l->next;
		struct pending_join *p = l->data;
		if (p->account == id) {
			pending = g_list_delete_link(pending, l);
			pending_free(p);
		}
		l = next;
	}
	for (GList *l = partings; l != NULL;) {
		GList *next = l->next;
		struct parting *pt = l->data;
		if (pt->account == id)
			parting_free(pt);
		l = next;
	}
	chats_admin_account_gone(id);
	roomlist_account_gone(id);
	chats_jabber_account_gone(id);
}

/* System lines the core writes itself ("x entered the room", topics):
 * never relayed for a chat, but counted towards the history clearing. */
static void write_conv(PurpleConversation *conv, const char *name, const char *alias,
                       const char *message, PurpleMessageFlags flags, time_t mtime)
{
	if (purple_conversation_get_type(conv) == PURPLE_CONV_TYPE_CHAT) {
		count_line(conv);
		return;
	}
	if (im_write_conv != NULL)
		im_write_conv(conv, name, alias, message, flags, mtime);
}

void chats_install(PurpleConversationUiOps *ops)
{
	im_write_conv = ops->write_conv;
	ops->write_conv = write_conv;
	ops->write_chat = chats_write_chat;
	ops->chat_add_users = chat_add_users;
	ops->chat_rename_user = chat_rename_user;
	ops->chat_remove_users = chat_remove_users;
	ops->chat_update_user = chat_update_user;

	void *conversations = purple_conversations_get_handle();
	purple_signal_connect(conversations, "chat-joined", &handle,
	                      PURPLE_CALLBACK(on_chat_joined), NULL);
	purple_signal_connect(conversations, "chat-left", &handle, PURPLE_CALLBACK(on_chat_left),
	                      NULL);
	purple_signal_connect(conversations, "chat-join-failed", &handle,
	                      PURPLE_CALLBACK(on_chat_join_failed), NULL);
	purple_signal_connect(conversations, "chat-buddy-left", &handle,
	                      PURPLE_CALLBACK(on_chat_buddy_left), NULL);
	purple_signal_connect(conversations, "deleting-conversation", &handle,
	                      PURPLE_CALLBACK(on_deleting_conversation), NULL);
	chats_admin_install();
	roomlist_install();
	chats_jabber_install();
}
