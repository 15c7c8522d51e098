/* inflight: the pool's book of messages in flight and of suspect logins.
 * See inflight.h. */
#include "config.h"
#include "inflight.h"

#include <string.h>

#include "ferry/worker_protocol.h"

/* How long a suspect is remembered: its next login within this time runs
 * in a worker of its own. */
#define SUSPECT_SECONDS 300
/* At most this many suspects are kept (the expired ones are pruned first). */
#define MAX_SUSPECTS 4096

/* A hosted account: what names its legacy login across logins, and the
 * SEND_IM and SEND_CHAT sequence numbers queued for its worker and not yet
 * answered. */
struct hosted {
	char *key; /* protocol, a newline, the legacy username */
	GArray *inflight;
	bool ended;            /* its DISCONNECTED came: the worker says no more */
	gint64 leave_deadline; /* logged out, waiting for DISCONNECTED until then; 0: not */
};

struct inflight_book {
	GHashTable *hosted;   /* account id -> struct hosted * (owned) */
	GHashTable *suspects; /* struct hosted key -> deadline (gint64 *, monotonic µs) */
};

static void hosted_free(gpointer data)
{
	struct hosted *h = data;
	g_free(h->key);
	g_array_unref(h->inflight);
	g_free(h);
}

static char *login_key(const struct worker_msg_login *login)
{
	return g_strconcat(login->protocol, "\n", login->username, NULL);
}

struct inflight_book *inflight_book_new(void)
{
	struct inflight_book *b = g_new0(struct inflight_book, 1);
	b->hosted = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, hosted_free);
	b->suspects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return b;
}

void inflight_book_free(struct inflight_book *b)
{
	if (b == NULL)
		return;
	g_hash_table_unref(b->hosted);
	g_hash_table_unref(b->suspects);
	g_free(b);
}

static struct hosted *hosted_of(const struct inflight_book *b, guint32 account)
{
	return g_hash_table_lookup(b->hosted, GUINT_TO_POINTER(account));
}

void inflight_book_add(struct inflight_book *b, guint32 account,
                       const struct worker_msg_login *login)
{
	struct hosted *h = g_new0(struct hosted, 1);
	h->key = login_key(login);
	h->inflight = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_hash_table_replace(b->hosted, GUINT_TO_POINTER(account), h);
}

void inflight_book_remove(struct inflight_book *b, guint32 account)
{
	g_hash_table_remove(b->hosted, GUINT_TO_POINTER(account));
}

void inflight_book_on_command(struct inflight_book *b, GBytes *frame)
{
	/* a room message is a message too (same sequence numbers, same
	 * answers): a text that kills libpurple in a room is found the same way */
	guint32 kind = worker_frame_type(frame);
	if (kind != WORKER_SEND_IM && kind != WORKER_SEND_CHAT)
		return;
	struct hosted *h = hosted_of(b, worker_frame_account(frame));
	g_autoptr(GBytes) body = g_bytes_new_from_bytes(frame, 4, g_bytes_get_size(frame) - 4);
	guint32 type = 0, account = 0, seq = 0;
	g_autoptr(GVariant) payload = NULL;
	if (h == NULL || !worker_frame_decode(body, &type, &account, &payload, NULL))
		return;
	g_variant_get_child(payload, 0, "u", &seq);
	g_array_append_val(h->inflight, seq);
}

bool inflight_book_on_event(struct inflight_book *b, guint32 account, guint32 type,
                            GVariant *payload)
{
	struct hosted *h = hosted_of(b, account);
	if (h != NULL && type == WORKER_DISCONNECTED)
		h->ended = true;
	if (h == NULL || h->inflight->len == 0)
		return false;
	guint32 through = 0, only = 0;
	if (type == WORKER_IMS_SENT)
		g_variant_get_child(payload, 0, "u", &through);
	else if (type == WORKER_IM_RESULT)
		g_variant_get_child(payload, 0, "u", &only);
	else if (type == WORKER_DISCONNECTED)
		through = G_MAXUINT32; /* everything before it was answered */
	else
		return false;
	for (guint i = h->inflight->len; i-- > 0;) {
		guint32 seq = g_array_index(h->inflight, guint32, i);
		if (seq <= through || seq == only)
			g_array_remove_index(h->inflight, i);
	}
	return h->inflight->len == 0;
}

guint inflight_book_count(const struct inflight_book *b, guint32 account)
{
	const struct hosted *h = hosted_of(b, account);
	return h != NULL ? h->inflight->len : 0;
}

const char *inflight_book_user(const struct inflight_book *b, guint32 account)
{
	const struct hosted *h = hosted_of(b, account);
	return h != NULL ? strchr(h->key, '\n') + 1 : "?";
}

void inflight_book_suspect(struct inflight_book *b, guint32 account)
{
	const struct hosted *h = hosted_of(b, account);
	if (h == NULL)
		return;
	if (g_hash_table_size(b->suspects) >= MAX_SUSPECTS) {
		gint64 now = g_get_monotonic_time();
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, b->suspects);
		while (g_hash_table_iter_next(&it, NULL, &value))
			if (*(gint64 *)value <= now)
				g_hash_table_iter_remove(&it);
		if (g_hash_table_size(b->suspects) >= MAX_SUSPECTS)
			g_hash_table_remove_all(b->suspects);
	}
	gint64 *deadline = g_new(gint64, 1);
	*deadline = g_get_monotonic_time() + SUSPECT_SECONDS * G_USEC_PER_SEC;
	g_hash_table_replace(b->suspects, g_strdup(h->key), deadline);
}

bool inflight_book_take_suspect(struct inflight_book *b, const struct worker_msg_login *login)
{
	g_autofree char *key = login_key(login);
	gint64 *deadline = g_hash_table_lookup(b->suspects, key);
	if (deadline == NULL)
		return false;
	bool recent = *deadline > g_get_monotonic_time();
	g_hash_table_remove(b->suspects, key);
	return recent;
}

bool inflight_book_ended(const struct inflight_book *b, guint32 account)
{
	const struct hosted *h = hosted_of(b, account);
	return h == NULL || h->ended;
}

void inflight_book_leave(struct inflight_book *b, guint32 account, gint64 deadline)
{
	struct hosted *h = hosted_of(b, account);
	if (h != NULL)
		h->leave_deadline = deadline;
}

bool inflight_book_leaving(const struct inflight_book *b, guint32 account)
{
	const struct hosted *h = hosted_of(b, account);
	return h != NULL && h->leave_deadline != 0;
}

GArray *inflight_book_overdue(const struct inflight_book *b, gint64 now)
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint32));
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, b->hosted);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		const struct hosted *h = value;
		if (h->leave_deadline != 0 && h->leave_deadline <= now) {
			guint32 id = GPOINTER_TO_UINT(key);
			g_array_append_val(ids, id);
		}
	}
	return ids;
}
