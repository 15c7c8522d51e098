/* chats_jabber: PROBE_ROOM on prpl-jabber -- is that JID a room?
 *
 * prpl-jabber has no call for a disco#info of our choosing, so the query
 * is sent raw (prpl_info->send_raw) with an id of our own, and its answer
 * taken off the "jabber-receiving-xmlnode" signal before prpl-jabber sees
 * it (it would log an iq of an id it never sent). Result with identity
 * category "conference": ROOM (its name, muc_passwordprotected); a result
 * without: NOT_ROOM; item-not-found / remote-server-not-found: MISSING;
 * another error, or nothing in PROBE_TIMEOUT_S: UNKNOWN. At most
 * PROBES_MAX probes wait at a time (more are answered UNKNOWN at once).
 *
 * A MUC's error presence to a join names why (XEP-0045 7.2.6-7.2.11);
 * prpl-jabber only says "chat-join-failed", so the reason is read here,
 * off the same signal (the packet goes on to prpl-jabber, which cleans up
 * its half-joined chat).
 *
 * Kicks and bans (status 307, 301 in an unavailable presence from the
 * room) reach libpurple's chat-left / chat-buddy-left without actor or
 * reason; the last such presence is noted here for the handler that runs
 * while prpl-jabber parses it (chats_jabber_kick). */
#include "config.h"
#include "chats_internal.h"

#include <string.h>

#define PROBE_TIMEOUT_S 10
#define PROBES_MAX 64
#define ID_PREFIX "ferry-probe-"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

struct probe {
	guint32 account;
	char *room; /* as asked */
	char *id;
	guint timer;
};

static GList *probes; /* struct probe */
static guint32 next_id;
static int handle;

static void answer(guint32 account, const char *room, guint32 kind, const char *name, bool password)
{
	struct account *a = accounts_lookup(account);
	if (a != NULL)
		account_emit(a, WORKER_FRAME(room_info, .account = account, .room = room,
		                             .kind = kind, .name = name, .password = password));
}

static void probe_free(struct probe *p)
{
	probes = g_list_remove(probes, p);
	g_clear_handle_id(&p->timer, loop_timeout_remove);
	g_free(p->room);
	g_free(p->id);
	g_free(p);
}

static gboolean on_timeout(gpointer data)
{
	struct probe *p = data;
	p->timer = 0;
	answer(p->account, p->room, WORKER_ROOM_UNKNOWN, p->room, false);
	probe_free(p);
	return G_SOURCE_REMOVE;
}

void chats_jabber_probe(struct account *account, const char *room)
{
	guint32 id = account_id(account);
	PurpleConnection *gc = purple_account_get_connection(account_purple(account));
	PurplePlugin *prpl = gc != NULL ? purple_connection_get_prpl(gc) : NULL;
	PurplePluginProtocolInfo *info = prpl != NULL ? PURPLE_PLUGIN_PROTOCOL_INFO(prpl) : NULL;
	if (!account_is_connected(account) || info == NULL || info->send_raw == NULL ||
	    g_list_length(probes) >= PROBES_MAX || *room == '\0') {
		answer(id, room, WORKER_ROOM_UNKNOWN, room, false);
		return;
	}
	struct probe *p = g_new0(struct probe, 1);
	p->account = id;
	p->room = g_strdup(room);
	/* a random part: an id another could guess would let it answer for
	 * the room */
	p->id = g_strdup_printf(ID_PREFIX "%u-%08x%08x", ++next_id, g_random_int(), g_random_int());
	p->timer = loop_timeout_add_seconds(PROBE_TIMEOUT_S, on_timeout, p);
	probes = g_list_prepend(probes, p);
	g_autofree char *xml = g_markup_printf_escaped(
	    "<iq type='get' id='%s' to='%s'><query xmlns='" NS_DISCO_INFO "'/></iq>", p->id, room);
	(void)info->send_raw(gc, xml, (int)strlen(xml));
}

static struct probe *probe_find(guint32 account, const char *id)
{
	for (GList *l = probes; l != NULL; l = l->next) {
		struct probe *p = l->data;
		if (p->account == account && g_strcmp0(p->id, id) == 0)
			return p;
	}
	return NULL;
}

static void read_result(struct probe *p, xmlnode *iq)
{
	xmlnode *query = xmlnode_get_child_with_namespace(iq, "query", NS_DISCO_INFO);
	const char *name = p->room;
	bool room = false, password = false;
	for (xmlnode *n = query != NULL ? query->child : NULL; n != NULL; n = n->next) {
		if (n->type != XMLNODE_TYPE_TAG)
			continue;
		if (g_strcmp0(n->name, "identity") == 0 &&
		    g_strcmp0(xmlnode_get_attrib(n, "category"), "conference") == 0) {
			room = true;
			if (xmlnode_get_attrib(n, "name") != NULL)
				name = xmlnode_get_attrib(n, "name");
		} else if (g_strcmp0(n->name, "feature") == 0 &&
		           g_strcmp0(xmlnode_get_attrib(n, "var"), "muc_passwordprotected") == 0) {
			password = true;
		}
	}
	answer(p->account, p->room, room ? WORKER_ROOM_ROOM : WORKER_ROOM_NOT_ROOM, name, password);
}

static void read_error(struct probe *p, xmlnode *iq)
{
	xmlnode *error = xmlnode_get_child(iq, "error");
	guint32 kind = WORKER_ROOM_UNKNOWN;
	if (error != NULL &&
	    (xmlnode_get_child_with_namespace(error, "item-not-found", NS_STANZAS) != NULL ||
	     xmlnode_get_child_with_namespace(error, "remote-server-not-found", NS_STANZAS) !=
	         NULL))
		kind = WORKER_ROOM_MISSING;
	answer(p->account, p->room, kind, p->room, false);
}

/* The WORKER_CHAT_FAIL_* of a MUC join's error condition. */
static guint32 join_failure(xmlnode *error)
{
	static const struct {
		const char *condition;
		guint32 reason;
	} table[] = {
	    {"not-authorized", WORKER_CHAT_FAIL_KEY},
	    {"forbidden", WORKER_CHAT_FAIL_BANNED},
	    {"registration-required", WORKER_CHAT_FAIL_INVITE_ONLY},
	    {"service-unavailable", WORKER_CHAT_FAIL_FULL},
	    {"conflict", WORKER_CHAT_FAIL_NICK_IN_USE},
	    {"item-not-found", WORKER_CHAT_FAIL_NO_ROOM},
	    {"remote-server-not-found", WORKER_CHAT_FAIL_NETWORK},
	    {"remote-server-timeout", WORKER_CHAT_FAIL_NETWORK},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(table); i++)
		if (xmlnode_get_child_with_namespace(error, table[i].condition, NS_STANZAS) != NULL)
			return table[i].reason;
	return WORKER_CHAT_FAIL_OTHER;
}

static void on_presence_error(PurpleConnection *gc, xmlnode *presence)
{
	const char *from = xmlnode_get_attrib(presence, "from");
	xmlnode *error = xmlnode_get_child(presence, "error");
	struct account *account = accounts_find(purple_connection_get_account(gc));
	if (from == NULL || error == NULL || account == NULL)
		return;
	g_autofree char *bare = g_strdup(from);
	char *slash = strchr(bare, '/');
	if (slash != NULL)
		*slash = '\0';
	xmlnode *text = xmlnode_get_child_with_namespace(error, "text", NS_STANZAS);
	g_autofree char *words = text != NULL ? xmlnode_get_data(text) : NULL;
	guint32 reason = join_failure(error);
	const char *fallback = reason == WORKER_CHAT_FAIL_NICK_IN_USE ? "the nick is taken"
	                       : reason == WORKER_CHAT_FAIL_KEY       ? "a password is required"
	                                                              : "the room refused the join";
	chats_join_failed(account, bare, reason, words != NULL && *words ? words : fallback);
}

/* A room's <message type='error'/> (XEP-0045 7.4: a visitor in a
 * moderated room, a message the room does not accept) refuses our oldest
 * message not reflected yet: prpl-jabber only writes it as an error line,
 * and the reflection that line waits for never comes. */
static void on_message_error(PurpleConnection *gc, xmlnode *message)
{
	const char *from = xmlnode_get_attrib(message, "from");
	struct account *account = accounts_find(purple_connection_get_account(gc));
	if (from == NULL || strchr(from, '/') != NULL || account == NULL)
		return; /* an occupant's (a private message's) error is not the room's */
	PurpleConversation *conv = find_chat(account, from);
	struct room *room = room_of(conv);
	if (room == NULL || room->state != ROOM_JOINED || g_queue_is_empty(&room->echoes))
		return;
	guint32 seq = GPOINTER_TO_UINT(g_queue_pop_head(&room->echoes));
	xmlnode *error = xmlnode_get_child(message, "error");
	xmlnode *text =
	    error != NULL ? xmlnode_get_child_with_namespace(error, "text", NS_STANZAS) : NULL;
	g_autofree char *words = text != NULL ? xmlnode_get_data(text) : NULL;
	const char *condition = "";
	for (xmlnode *n = error != NULL ? error->child : NULL; n != NULL; n = n->next)
		if (n->type == XMLNODE_TYPE_TAG && g_strcmp0(n->name, "text") != 0 &&
		    g_strcmp0(xmlnode_get_namespace(n), NS_STANZAS) == 0) {
			condition = n->name;
			break;
		}
	g_autofree char *why = words != NULL && *words != '\0'
	                           ? g_strdup(words)
	                           : g_strdup_printf("the room refused the message (%s)",
	                                             *condition ? condition : "error");
	g_message("account %u: %s refused message %u: %s", account_id(account), conv_name(conv),
	          seq, why);
	channel_send(WORKER_FRAME(im_result, .account = account_id(account), .seq = seq,
	                          .sent = false, .reason = WORKER_IM_FAILED, .error = why,
	                          .lines = 1));
}

#define NS_MUC_USER "http://jabber.org/protocol/muc#user"

/* The kick or ban being parsed: valid until the next packet. */
static struct {
	guint32 account;
	char *room; /* bare JID */
	char *nick;
	char *actor;
	char *reason;
} kick;

static void kick_clear(void)
{
	kick.account = 0;
	g_clear_pointer(&kick.room, g_free);
	g_clear_pointer(&kick.nick, g_free);
	g_clear_pointer(&kick.actor, g_free);
	g_clear_pointer(&kick.reason, g_free);
}

static bool has_status(xmlnode *x, const char *code)
{
	for (xmlnode *st = xmlnode_get_child(x, "status"); st != NULL;
	     st = xmlnode_get_next_twin(st))
		if (g_strcmp0(xmlnode_get_attrib(st, "code"), code) == 0)
			return true;
	return false;
}

/* Our own unavailable from a room (status 110): prpl-jabber drops its
 * chat now, and a join deferred behind it may go. */
static void note_parted(PurpleConnection *gc, xmlnode *presence)
{
	const char *from = xmlnode_get_attrib(presence, "from");
	xmlnode *x = xmlnode_get_child_with_namespace(presence, "x", NS_MUC_USER);
	struct account *account = accounts_find(purple_connection_get_account(gc));
	const char *slash = from != NULL ? strchr(from, '/') : NULL;
	if (x == NULL || account == NULL || slash == NULL || !has_status(x, "110"))
		return;
	g_autofree char *room = g_strndup(from, (gsize)(slash - from));
	chats_parted(account_id(account), room);
}

static void note_kick(PurpleConnection *gc, xmlnode *presence)
{
	const char *from = xmlnode_get_attrib(presence, "from");
	xmlnode *x = xmlnode_get_child_with_namespace(presence, "x", NS_MUC_USER);
	struct account *account = accounts_find(purple_connection_get_account(gc));
	const char *slash = from != NULL ? strchr(from, '/') : NULL;
	if (x == NULL || account == NULL || slash == NULL ||
	    !(has_status(x, "307") || has_status(x, "301")))
		return;
	xmlnode *item = xmlnode_get_child(x, "item");
	xmlnode *actor = item != NULL ? xmlnode_get_child(item, "actor") : NULL;
	xmlnode *reason = item != NULL ? xmlnode_get_child(item, "reason") : NULL;
	kick.account = account_id(account);
	kick.room = g_strndup(from, (gsize)(slash - from));
	kick.nick = g_strdup(slash + 1);
	kick.actor = g_strdup(actor != NULL && xmlnode_get_attrib(actor, "nick") != NULL
	                          ? xmlnode_get_attrib(actor, "nick")
	                          : "");
	kick.reason = reason != NULL ? xmlnode_get_data(reason) : NULL;
	if (kick.reason == NULL)
		kick.reason = g_strdup("");
}

bool chats_jabber_kick(guint32 account, const char *room, const char *nick, const char **actor,
                       const char **reason)
{
	if (kick.account != account || !same_name(kick.room, room) ||
	    (nick != NULL && g_strcmp0(kick.nick, nick) != 0))
		return false;
	*actor = kick.actor;
	*reason = kick.reason;
	return true;
}

static void on_receiving_xmlnode(PurpleConnection *gc, xmlnode **packet, gpointer data)
{
	kick_clear();
	if (packet == NULL || *packet == NULL)
		return;
	if (g_strcmp0((*packet)->name, "presence") == 0 &&
	    g_strcmp0(xmlnode_get_attrib(*packet, "type"), "unavailable") == 0) {
		note_kick(gc, *packet);
		note_parted(gc, *packet);
		return;
	}
	if (g_strcmp0((*packet)->name, "presence") == 0 &&
	    g_strcmp0(xmlnode_get_attrib(*packet, "type"), "error") == 0) {
		on_presence_error(gc, *packet);
		return;
	}
	if (g_strcmp0((*packet)->name, "message") == 0 &&
	    g_strcmp0(xmlnode_get_attrib(*packet, "type"), "error") == 0) {
		on_message_error(gc, *packet);
		return;
	}
	if (probes == NULL || g_strcmp0((*packet)->name, "iq") != 0)
		return;
	const char *id = xmlnode_get_attrib(*packet, "id");
	if (id == NULL || !g_str_has_prefix(id, ID_PREFIX))
		return;
	struct account *account = accounts_find(purple_connection_get_account(gc));
	struct probe *p = account != NULL ? probe_find(account_id(account), id) : NULL;
	if (p == NULL)
		return;
	if (!same_name(xmlnode_get_attrib(*packet, "from"), p->room)) {
		/* only the room answers for itself */
		g_message("account %u: an answer to the probe of %s from %s ignored",
		          account_id(account), p->room,
		          xmlnode_get_attrib(*packet, "from") ? xmlnode_get_attrib(*packet, "from")
		                                              : "(none)");
		return;
	}
	const char *type = xmlnode_get_attrib(*packet, "type");
	if (g_strcmp0(type, "result") == 0)
		read_result(p, *packet);
	else if (g_strcmp0(type, "error") == 0)
		read_error(p, *packet);
	else
		return; /* not an answer: prpl-jabber's to handle */
	probe_free(p);
	/* ours: prpl-jabber never sees it */
	xmlnode_free(*packet);
	*packet = NULL;
}

void chats_jabber_account_gone(guint32 id)
{
	if (kick.account == id)
		kick_clear();
	for (GList *l = probes; l != NULL;) {
		GList *next = l->next;
		struct probe *p = l->data;
		if (p->account == id)
			probe_free(p);
		l = next;
	}
}

void chats_jabber_install(void)
{
	PurplePlugin *jabber = purple_plugins_find_with_id("prpl-jabber");
	if (jabber != NULL &&
	    purple_signal_connect(jabber, "jabber-receiving-xmlnode", &handle,
	                          PURPLE_CALLBACK(on_receiving_xmlnode), NULL) == 0)
		g_warning("prpl-jabber: cannot watch its input; rooms cannot be probed");
}
