/* quirks: what one libpurple protocol does differently from the others and
 * the worker works around, in one place, keyed by protocol id. */
#include "config.h"
#include "worker.h"

#include <string.h>

struct quirk {
	const char *protocol;
	/* The prpl queues what it sends and writes the queue from a
	 * g_timeout_add_seconds() timer of its own, whose data is the
	 * connection's protocol data; see quirks_flush_sends(). */
	bool timer_sends;
	/* purple_account_add_buddy() takes a reference per call (irc_add_buddy),
	 * so a listed buddy must not be added again. */
	bool add_buddy_counts;
	/* Messages become lines, split and paced by the worker (sendq.c). */
	bool paced_lines;
};

static const struct quirk quirks[] = {
    {.protocol = "prpl-irc", .timer_sends = true, .add_buddy_counts = true, .paced_lines = true},
};

static const struct quirk *quirk_of(const char *protocol_id)
{
	for (gsize i = 0; i < G_N_ELEMENTS(quirks); i++)
		if (g_strcmp0(quirks[i].protocol, protocol_id) == 0)
			return &quirks[i];
	return NULL;
}

/* libpurple 2.14's IRC prpl queues every line it sends and writes the
 * queue from a 1-second g_timeout_add_seconds() timer (irc.c,
 * irc_send_handler_cb), so each message would wait up to a second. That
 * timer is loop.c's (see there), found by its data, the connection's
 * protocol data; running it right after a command sends at once, in the
 * same main loop iteration. Its own rate limiter is off (sendq.c paces
 * the lines), so what it queued is written now. */
void quirks_flush_sends(struct account *account)
{
	if (account == NULL)
		return;
	PurpleAccount *pa = account_purple(account);
	const struct quirk *q = quirk_of(purple_account_get_protocol_id(pa));
	if (q == NULL || !q->timer_sends)
		return;
	PurpleConnection *gc = purple_account_get_connection(pa);
	gpointer proto = gc != NULL ? purple_connection_get_protocol_data(gc) : NULL;
	guint timer = proto != NULL ? loop_timer_of(proto) : 0;
	if (timer != 0)
		(void)loop_timer_run(timer);
}

bool quirks_add_buddy_counts(const char *protocol_id)
{
	const struct quirk *q = quirk_of(protocol_id);
	return q != NULL && q->add_buddy_counts;
}

bool quirks_paced_lines(const char *protocol_id)
{
	const struct quirk *q = quirk_of(protocol_id);
	return q != NULL && q->paced_lines;
}
