/* roomlist: LIST_ROOMS through libpurple's room list (IRC: LIST), sent up
 * as ROOM_LIST batches of at most BATCH_MAX rooms, the last with done.
 *
 * Bounds: at most WORKER_ROOM_LIST_MAX rooms (then complete=false and the
 * listing cancelled), at most LIST_TIMEOUT_S seconds (then the same), a
 * topic of at most TOPIC_MAX bytes; one listing per account at a time (a
 * second LIST_ROOMS is answered by the running one). The prpl frees its
 * list when the listing ends unless someone holds a reference: we hold
 * one until we are done. prpl-jabber first asks for the conference
 * server through a request (requests.c answers with its default). */
#include "config.h"
#include "worker.h"

#include <string.h>

#define BATCH_MAX 500
#define TOPIC_MAX 256
#define LIST_TIMEOUT_S 60

struct listing {
	guint32 account;
	PurpleRoomlist *list; /* our reference */
	GHashTable *batch;    /* name -> "USERS\tTOPIC" (owned strings) */
	guint count;          /* rooms reported in all */
	guint timer;
	bool cut;       /* past the bound: the rest is ignored */
	guint cut_idle; /* ends the listing once the prpl's loop is over */
};

static GList *listings; /* struct listing */
static guint rooms_max = WORKER_ROOM_LIST_MAX;

static struct listing *listing_find(guint32 account)
{
	for (GList *l = listings; l != NULL; l = l->next)
		if (((struct listing *)l->data)->account == account)
			return l->data;
	return NULL;
}

static void send_batch(struct listing *li, bool done, bool complete)
{
	channel_send(WORKER_FRAME(room_list, .account = li->account, .rooms = li->batch,
	                          .done = done, .complete = complete));
	g_hash_table_remove_all(li->batch);
}

/* Ends LI: the last batch, then forgets it (and cancels the listing when
 * it is cut short). */
static void finish(struct listing *li, bool complete)
{
	listings = g_list_remove(listings, li);
	g_clear_handle_id(&li->timer, loop_timeout_remove);
	g_clear_handle_id(&li->cut_idle, g_source_remove);
	struct account *account = accounts_lookup(li->account);
	if (account != NULL)
		send_batch(li, true, complete);
	g_message("account %u: room list %s: %u rooms", li->account,
	          complete ? "complete" : "cut short", li->count);
	PurpleRoomlist *list = li->list;
	list->ui_data = NULL;
	if (purple_roomlist_get_in_progress(list))
		purple_roomlist_cancel_get_list(list);
	purple_roomlist_unref(list);
	g_hash_table_destroy(li->batch);
	g_free(li);
}

static gboolean on_cut(gpointer data)
{
	struct listing *li = data;
	li->cut_idle = 0;
	finish(li, false);
	return G_SOURCE_REMOVE;
}

static gboolean on_timeout(gpointer data)
{
	struct listing *li = data;
	li->timer = 0;
	finish(li, false);
	return G_SOURCE_REMOVE;
}

void roomlist_on_list_rooms(void *data, const struct worker_msg_list_rooms *m)
{
	struct account *account = data;
	if (listing_find(m->account) != NULL)
		return; /* the running listing answers this one too */
	PurpleConnection *gc = purple_account_get_connection(account_purple(account));
	PurpleRoomlist *list = NULL;
	if (account_is_connected(account) && !account_is_test(account)) {
		prompts_own_question(true); /* prpl-jabber asks which conference server */
		list = purple_roomlist_get_list(gc);
		prompts_own_question(false);
	}
	if (list == NULL) {
		g_autoptr(GHashTable) none = g_hash_table_new(g_str_hash, g_str_equal);
		channel_send(WORKER_FRAME(room_list, .account = m->account, .rooms = none,
		                          .done = true, .complete = false));
		return;
	}
	struct listing *li = g_new0(struct listing, 1);
	li->account = m->account;
	li->list = list;
	purple_roomlist_ref(list);
	li->batch = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	li->timer = loop_timeout_add_seconds(LIST_TIMEOUT_S, on_timeout, li);
	list->ui_data = li;
	listings = g_list_prepend(listings, li);
	g_message("account %u: listing rooms", m->account);
}

/* At most TOPIC_MAX bytes of plain text, no tab (the separator). */
static char *short_topic(const char *topic)
{
	char *plain = purple_markup_strip_html(topic != NULL ? topic : "");
	g_strdelimit(plain, "\t\r\n", ' ');
	if (strlen(plain) > TOPIC_MAX) { /* cut at a character boundary */
		char *end = plain + TOPIC_MAX;
		while (end > plain && (*end & 0xC0) == 0x80)
			end--;
		*end = '\0';
	}
	return plain;
}

/* The name to join ROOM by: prpl-jabber's room name is only the node
 * ("room"), its serialization the JID ("room@server"). */
static char *room_name(PurpleRoomlist *list, PurpleRoomlistRoom *room)
{
	PurpleConnection *gc =
	    list->account != NULL ? purple_account_get_connection(list->account) : NULL;
	PurplePlugin *prpl = gc != NULL ? purple_connection_get_prpl(gc) : NULL;
	PurplePluginProtocolInfo *info = prpl != NULL ? PURPLE_PLUGIN_PROTOCOL_INFO(prpl) : NULL;
	char *name = info != NULL && info->roomlist_room_serialize != NULL
	                 ? info->roomlist_room_serialize(room)
	                 : NULL;
	return name != NULL ? name : g_strdup(purple_roomlist_room_get_name(room));
}

static void add_room(PurpleRoomlist *list, PurpleRoomlistRoom *room)
{
	struct listing *li = list->ui_data;
	if (li == NULL || purple_roomlist_room_get_type(room) != PURPLE_ROOMLIST_ROOMTYPE_ROOM)
		return;
	if (li->cut)
		return;
	if (li->count >= rooms_max) {
		/* not finish() here: prpl-jabber adds its rooms in a loop that
		 * goes on with the list cancelled under it (g_criticals, leaked
		 * rooms). Its end (in_progress FALSE) or the next idle ends it. */
		li->cut = true;
		li->cut_idle = g_idle_add(on_cut, li);
		return;
	}
	li->count++;
	int users = -1;
	const char *topic = NULL, *description = NULL;
	GList *f = purple_roomlist_get_fields(list);
	for (GList *v = purple_roomlist_room_get_fields(room); v != NULL && f != NULL;
	     v = v->next, f = f->next) {
		PurpleRoomlistField *field = f->data;
		const char *name = field->name; /* no getter in 2.x */
		if (g_strcmp0(name, "users") == 0 &&
		    purple_roomlist_field_get_type(field) == PURPLE_ROOMLIST_FIELD_INT)
			users = GPOINTER_TO_INT(v->data);
		else if (g_strcmp0(name, "topic") == 0 &&
		         purple_roomlist_field_get_type(field) == PURPLE_ROOMLIST_FIELD_STRING)
			topic = v->data;
		else if (g_strcmp0(name, "description") == 0 &&
		         purple_roomlist_field_get_type(field) == PURPLE_ROOMLIST_FIELD_STRING)
			description = v->data;
	}
	/* prpl-jabber has no topic field: its "description" is the room's
	 * disco name */
	g_autofree char *plain = short_topic(topic != NULL ? topic : description);
	g_autofree char *count = users >= 0 ? g_strdup_printf("%d", users) : g_strdup("");
	g_hash_table_replace(li->batch, room_name(list, room),
	                     g_strdup_printf("%s\t%s", count, plain));
	if (g_hash_table_size(li->batch) >= BATCH_MAX)
		send_batch(li, false, true);
}

static void in_progress(PurpleRoomlist *list, gboolean flag)
{
	struct listing *li = list->ui_data;
	if (li != NULL && !flag)
		finish(li, !li->cut);
}

static PurpleRoomlistUiOps roomlist_ops = {
    .add_room = add_room,
    .in_progress = in_progress,
};

void roomlist_install(void)
{
	purple_roomlist_set_ui_ops(&roomlist_ops);
	/* tests lower the bound to reach it with a few rooms */
	const char *max = g_getenv("FERRY_WORKER_TEST_ROOM_LIST_MAX");
	guint64 n = 0;
	if (max != NULL && g_ascii_string_to_unsigned(max, 10, 1, WORKER_ROOM_LIST_MAX, &n, NULL))
		rooms_max = (guint)n;
}

void roomlist_account_gone(guint32 id)
{
	struct listing *li = listing_find(id);
	if (li != NULL)
		finish(li, false);
}
