/* resources: which of a user's XMPP resources are available, each with
 * its priority and status, and which of them sets the legacy status
 * (the highest priority; the newest on ties). One per session. */
#include "config.h"
#include "internal.h"

#include <string.h>

struct resource {
	int priority;
	guint32 status; /* WORKER_STATUS_* */
	char *message;  /* status text, may be NULL */
	guint64 order;  /* arrival order, newest wins ties */
};

struct resources {
	GHashTable *by_name; /* resource -> struct resource *; available ones only */
	guint64 order;       /* the last arrival's */
};

static void resource_free(gpointer data)
{
	struct resource *r = data;
	g_free(r->message);
	g_free(r);
}

struct resources *resources_new(void)
{
	struct resources *rs = g_new0(struct resources, 1);
	rs->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, resource_free);
	return rs;
}

void resources_free(struct resources *rs)
{
	if (rs == NULL)
		return;
	g_hash_table_unref(rs->by_name);
	g_free(rs);
}

static guint32 status_from_show(const char *show)
{
	if (show == NULL || strcmp(show, "chat") == 0)
		return WORKER_STATUS_AVAILABLE;
	if (strcmp(show, "away") == 0)
		return WORKER_STATUS_AWAY;
	if (strcmp(show, "xa") == 0)
		return WORKER_STATUS_XA;
	if (strcmp(show, "dnd") == 0)
		return WORKER_STATUS_DND;
	return WORKER_STATUS_AVAILABLE;
}

void resources_update(struct resources *rs, const char *resource, const struct stanza *p)
{
	struct resource *r = g_new0(struct resource, 1);
	g_autofree char *prio = stanza_get_child_text(p, "priority", NULL);
	r->priority = prio != NULL ? (int)g_ascii_strtoll(prio, NULL, 10) : 0;
	g_autofree char *show = stanza_get_child_text(p, "show", NULL);
	r->status = status_from_show(show);
	r->message = stanza_get_child_text(p, "status", NULL);
	r->order = ++rs->order;
	g_hash_table_replace(rs->by_name, g_strdup(resource), r);
}

void resources_remove(struct resources *rs, const char *resource)
{
	g_hash_table_remove(rs->by_name, resource);
}

bool resources_has(const struct resources *rs, const char *resource)
{
	return g_hash_table_contains(rs->by_name, resource);
}

bool resources_any(const struct resources *rs)
{
	return g_hash_table_size(rs->by_name) > 0;
}

bool resources_best(const struct resources *rs, guint32 *status, const char **message)
{
	const struct resource *best = NULL;
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, rs->by_name);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct resource *r = value;
		if (best == NULL || r->priority > best->priority ||
		    (r->priority == best->priority && r->order > best->order))
			best = r;
	}
	if (best == NULL)
		return false;
	*status = best->status;
	*message = best->message != NULL ? best->message : "";
	return true;
}
