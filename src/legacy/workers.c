/* workers: supervises ferry-worker processes and moves framed messages
 * between them and ferry; starting them is in workers_spawn.c (shared:
 * workers_internal.h). See include/ferry/workers.h. */
#include "config.h"
#include "ferry/workers.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/fdwatch.h"
#include "ferry/worker_msgs.h"
#include "ferry/worker_protocol.h"
#include "workers_internal.h"

#define MAX_QUEUE_BYTES (16 * 1024 * 1024)
#define READ_CHUNK 65536
#define READS_PER_WAKEUP 32
#define STOP_GRACE_MS 3000
#define RESPAWN_MIN_MS 1000
#define RESPAWN_MAX_MS 60000
/* How long a logged-out account waits for its DISCONNECTED (the worker's
 * last word on its messages) before the pool reports it itself. */
#define LEAVE_WAIT_MS 10000

/* Workers that are running and may take accounts. */
static guint live_workers(const struct workers *pool)
{
	guint n = 0;
	for (guint i = 0; i < pool->list->len; i++) {
		const struct worker *w = g_ptr_array_index(pool->list, i);
		if (!w->dead && !w->retiring)
			n++;
	}
	return n;
}

/* Starts workers until min_workers are running. */
static void ensure_min(struct workers *pool)
{
	while (live_workers(pool) < pool->opt.min_workers) {
		g_autoptr(GError) err = NULL;
		if (workers_spawn(pool, &err) == NULL) {
			g_warning("workers: cannot start a worker: %s", err->message);
			return;
		}
	}
}

static gboolean respawn(gpointer data)
{
	struct workers *pool = data;
	pool->respawn_timer = 0;
	ensure_min(pool);
	return G_SOURCE_REMOVE;
}

static void worker_free(struct worker *w)
{
	if (w->wait_cancel != NULL) {
		g_cancellable_cancel(w->wait_cancel);
		g_clear_object(&w->wait_cancel);
	}
	g_clear_handle_id(&w->watch, g_source_remove);
	g_clear_handle_id(&w->idle_timer, g_source_remove);
	if (w->fd >= 0)
		close(w->fd);
	worker_reader_free(w->reader);
	if (w->acks_fd >= 0)
		close(w->acks_fd);
	worker_reader_free(w->acks_reader);
	frame_queue_clear(&w->out);
	g_hash_table_unref(w->accounts);
	g_clear_object(&w->proc);
	if (w->tmpdir != NULL) {
		workers_remove_tree(w->tmpdir);
		g_free(w->tmpdir);
	}
	g_free(w->pid);
	g_free(w);
}

/* ---- what is in flight ------------------------------------------------------------
 *
 * A worker that dies while it had messages it had not answered may have
 * died of one of them (a plugin crashing on some text): the accounts that
 * had messages in flight then are suspects, and their next login runs in a
 * worker of its own. If that one dies too with messages in flight, the
 * account is the culprit: its owner is told (a DISCONNECTED with
 * WORKER_REASON_CRASHED, fatal) instead of logging it in again, so one
 * account's poison costs at most two worker deaths and nobody else more
 * than one reconnect. Only SEND_IM and SEND_CHAT are answered, so only
 * messages count. */

static void track_event(struct worker *w, guint32 account, guint32 type, GVariant *payload)
{
	if (inflight_book_on_event(w->pool->book, account, type, payload) && w->solo) {
		/* what it had in flight when the last worker died went: it was
		 * not the cause, and its worker takes others again */
		w->solo = false;
		g_info("workers: worker %s: account %u's messages went; the worker is shared again",
		       w->pid, account);
	}
}

/* ---- writing ---------------------------------------------------------------- */

static void flush(struct worker *w)
{
	while (!w->dead && !frame_queue_is_empty(&w->out)) {
		if (frame_queue_send(&w->out, w->fd) >= 0)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			break;
		g_autofree char *why = g_strdup_printf("write failed: %s", g_strerror(errno));
		worker_died(w, why);
		return;
	}
	worker_update_watch(w);
}

static bool queue_frame(struct worker *w, GBytes *frame)
{
	if (w->out.bytes + g_bytes_get_size(frame) > MAX_QUEUE_BYTES) {
		g_bytes_unref(frame);
		worker_died(w, "not reading its socket (queue full)");
		return false;
	}
	frame_queue_push(&w->out, frame);
	if (!w->pool->hold)
		flush(w);
	return true;
}

/* ---- reading ---------------------------------------------------------------- */

/* Reports ACCOUNT's end to the owner as the worker would (a DISCONNECTED):
 * for a logout the worker could not confirm, or a culprit. */
static void report_end(struct workers *pool, guint32 account, guint32 reason, const char *text,
                       bool fatal)
{
	g_autoptr(GVariant) v =
	    g_variant_ref_sink(g_variant_new("(usb)", reason, text, (gboolean)fatal));
	pool->cb.event(pool->user_data, account, WORKER_DISCONNECTED, v);
}

static gboolean idle_stop(gpointer data);

/* W no longer hosts ACCOUNT. */
static void forget(struct worker *w, guint32 account)
{
	struct workers *pool = w->pool;
	if (!g_hash_table_remove(w->accounts, GUINT_TO_POINTER(account)))
		return;
	g_hash_table_remove(pool->by_account, GUINT_TO_POINTER(account));
	inflight_book_remove(pool->book, account);
	if (g_hash_table_size(w->accounts) > 0)
		return;
	w->solo = false; /* its suspect left: an empty worker like any other */
	if (!w->dead && w->idle_timer == 0)
		w->idle_timer = g_timeout_add_seconds(pool->opt.idle_stop_seconds, idle_stop, w);
}

static void deliver(struct worker *w, guint32 account, guint32 type, GVariant *payload)
{
	if (!g_hash_table_contains(w->accounts, GUINT_TO_POINTER(account))) {
		/* Late events after a logout, or a worker naming an account
		 * that is not its own: never delivered. */
		g_debug("workers: worker %s: dropping %s for account %u it does not host", w->pid,
		        worker_msg_name(type), account);
		return;
	}
	track_event(w, account, type, payload);
	bool leaving = inflight_book_leaving(w->pool->book, account);
	w->pool->cb.event(w->pool->user_data, account, type, payload);
	if (leaving && type == WORKER_DISCONNECTED && !w->dead)
		forget(w, account); /* the worker's last word on it came */
}

/* Reads the WORKER_IMS_SENT and WORKER_IM_PROGRESS frames waiting on W's acknowledgement socket
 * (WORKER_ACKS_FD) and delivers them. False if the worker broke the
 * protocol there (WHY is then set); EOF is not an error: a dead worker's
 * last acknowledgements are still read. */
static bool read_acks(struct worker *w, char **why)
{
	char buf[READ_CHUNK];
	for (int i = 0; i < READS_PER_WAKEUP && w->acks_fd >= 0; i++) {
		ssize_t n = recv(w->acks_fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		worker_reader_feed(w->acks_reader, buf, (size_t)n);
		for (;;) {
			g_autoptr(GError) err = NULL;
			g_autoptr(GBytes) body = worker_reader_next(w->acks_reader, &err);
			guint32 type = 0, account = 0;
			g_autoptr(GVariant) payload = NULL;
			if (body == NULL && err == NULL)
				break;
			if (err != NULL ||
			    !worker_frame_decode(body, &type, &account, &payload, &err)) {
				*why = g_strdup_printf("sent a malformed acknowledgement (%s)",
				                       err->message);
				return false;
			}
			if (type != WORKER_IMS_SENT && type != WORKER_IM_PROGRESS &&
			    type != WORKER_IM_RESULT) {
				*why = g_strdup_printf("sent %s on the acknowledgement socket",
				                       worker_msg_name(type));
				return false;
			}
			deliver(w, account, type, payload);
		}
		if ((size_t)n < sizeof buf)
			break;
	}
	return true;
}

static void drain_acks(struct worker *w)
{
	g_autofree char *why = NULL;
	if (!w->dead && !read_acks(w, &why))
		worker_died(w, why);
}

static gboolean drain_all_acks(gpointer data)
{
	struct workers *pool = data;
	/* worker_died() takes a worker out of the list: walk a copy */
	g_autoptr(GPtrArray) all = g_ptr_array_copy(pool->list, NULL, NULL);
	for (guint i = 0; i < all->len; i++)
		drain_acks(g_ptr_array_index(all, i));
	/* logouts the worker did not confirm in time */
	g_autoptr(GArray) late = inflight_book_overdue(pool->book, g_get_monotonic_time());
	for (guint i = 0; i < late->len; i++) {
		guint32 id = g_array_index(late, guint32, i);
		struct worker *w = g_hash_table_lookup(pool->by_account, GUINT_TO_POINTER(id));
		if (w == NULL)
			continue;
		g_info("workers: worker %s did not confirm the logout of account %u within %d s",
		       w->pid, id, LEAVE_WAIT_MS / 1000);
		forget(w, id);
		report_end(pool, id, WORKER_REASON_LOGOUT, "logged out (not confirmed)", false);
	}
	return G_SOURCE_CONTINUE;
}

static void handle_frame(struct worker *w, GBytes *body)
{
	guint32 type = 0, account = 0;
	GVariant *payload = NULL;
	g_autoptr(GError) err = NULL;
	if (!worker_frame_decode(body, &type, &account, &payload, &err)) {
		g_autofree char *why = g_strdup_printf("sent a malformed frame (%s)", err->message);
		worker_died(w, why);
		return;
	}
	if (type < WORKER_READY) {
		g_autofree char *why =
		    g_strdup_printf("sent a command (%s), not an event", worker_msg_name(type));
		worker_died(w, why);
	} else if (account == 0 && type == WORKER_READY) {
		struct worker_msg_ready ready;
		worker_msg_ready_read(payload, account, &ready);
		if (ready.version != WORKER_PROTOCOL_VERSION) {
			g_autofree char *why =
			    g_strdup_printf("speaks protocol version %u, not %u", ready.version,
			                    WORKER_PROTOCOL_VERSION);
			worker_died(w, why);
		} else {
			w->ready = true;
			w->pool->respawn_delay_ms = RESPAWN_MIN_MS;
			g_info("workers: worker %s ready (libpurple %s)", w->pid, ready.libpurple);
		}
		worker_msg_ready_clear(&ready);
	} else {
		/* What was sent before the account went down is settled first. */
		if (type == WORKER_DISCONNECTED)
			drain_acks(w);
		if (!w->dead)
			deliver(w, account, type, payload);
	}
	g_variant_unref(payload);
}

static void read_ready(struct worker *w)
{
	char buf[READ_CHUNK];
	for (int i = 0; i < READS_PER_WAKEUP && !w->dead; i++) {
		ssize_t n = recv(w->fd, buf, sizeof buf, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			worker_died(w, n == 0 ? "closed its socket" : g_strerror(errno));
			return;
		}
		worker_reader_feed(w->reader, buf, (size_t)n);
		bool drained = (size_t)n < sizeof buf; /* no need to read until EAGAIN */
		for (;;) {
			g_autoptr(GError) err = NULL;
			g_autoptr(GBytes) body = worker_reader_next(w->reader, &err);
			if (err != NULL) {
				g_autofree char *why =
				    g_strdup_printf("sent a malformed frame (%s)", err->message);
				worker_died(w, why);
				return;
			}
			if (body == NULL)
				break;
			handle_frame(w, body);
			if (w->dead)
				return;
		}
		if (drained)
			return;
	}
}

static gboolean on_io(gint fd, GIOCondition cond, gpointer data)
{
	struct worker *w = data;
	/* worker_died() frees W only at the next idle: W is valid here. */
	if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
		read_ready(w);
	if (!w->dead)
		flush(w);
	return G_SOURCE_CONTINUE;
}

void worker_update_watch(struct worker *w)
{
	if (w->dead)
		return;
	GIOCondition cond = G_IO_IN | (frame_queue_is_empty(&w->out) ? 0 : G_IO_OUT);
	if (w->watch != 0 && cond == w->watch_cond)
		return;
	g_clear_handle_id(&w->watch, g_source_remove);
	w->watch_cond = cond;
	w->watch = fdwatch_add(w->fd, cond, on_io, w);
}

/* ---- life and death ------------------------------------------------------------ */

static gboolean free_later(gpointer data)
{
	worker_free(data);
	return G_SOURCE_REMOVE;
}

/* Marks W dead, kills the process, reports its accounts as lost and frees W
 * (at the next idle: this may run inside W's own fd callback). */
void worker_died(struct worker *w, const char *why)
{
	if (w->dead)
		return;
	w->dead = true;
	struct workers *pool = w->pool;
	guint n = g_hash_table_size(w->accounts);
	bool stopped = w->retiring && n == 0;
	if (stopped)
		g_info("workers: worker %s stopped", w->pid);
	else
		g_warning("workers: worker %s %s; %u account(s) will be logged in again", w->pid,
		          why, n);
	g_clear_handle_id(&w->watch, g_source_remove);
	g_clear_handle_id(&w->idle_timer, g_source_remove);
	/* the worker and what it forked, before its directory goes */
	workers_kill_group(w);
	if (w->proc != NULL && g_subprocess_get_identifier(w->proc) != NULL)
		g_subprocess_force_exit(w->proc);
	/* Messages it acknowledged were sent: they must not be sent again. */
	g_autofree char *ack_error = NULL;
	if (!read_acks(w, &ack_error))
		g_warning("workers: worker %s %s", w->pid, ack_error);
	g_ptr_array_remove(pool->list, w);
	GList *ids = g_hash_table_get_keys(w->accounts);
	GList *culprits = NULL, *leavers = NULL;
	for (GList *l = ids; l != NULL; l = l->next) {
		guint32 id = GPOINTER_TO_UINT(l->data);
		guint inflight = inflight_book_count(pool->book, id);
		const char *user = inflight_book_user(pool->book, id);
		bool leaving = inflight_book_leaving(pool->book, id);
		if (leaving)
			leavers = g_list_prepend(leavers, l->data);
		if (inflight > 0 && w->solo && !leaving) {
			g_warning(
			    "workers: account %u (%s) had %u message(s) in flight when its own "
			    "worker died too: taken as the cause, not logged in again",
			    id, user, inflight);
			culprits = g_list_prepend(culprits, l->data);
		} else if (inflight > 0) {
			g_info(
			    "workers: account %u (%s) had %u message(s) in flight: its next login "
			    "runs in a worker of its own",
			    id, user, inflight);
			inflight_book_suspect(pool->book, id);
		}
		g_hash_table_remove(pool->by_account, l->data);
		inflight_book_remove(pool->book, id);
	}
	g_hash_table_remove_all(w->accounts);
	for (GList *l = ids; l != NULL; l = l->next) {
		guint32 id = GPOINTER_TO_UINT(l->data);
		if (g_list_find(leavers, l->data) != NULL)
			/* logged out already: its owner waits for this, not a loss */
			report_end(pool, id, WORKER_REASON_LOGOUT,
			           "logged out (the worker stopped before confirming it)", false);
		else if (g_list_find(culprits, l->data) != NULL)
			report_end(pool, id, WORKER_REASON_CRASHED,
			           "the transport's connection process crashed twice while sending "
			           "your messages",
			           true);
		else
			pool->cb.account_lost(pool->user_data, id);
	}
	g_list_free(leavers);
	g_list_free(culprits);
	g_list_free(ids);
	if (!w->ready)
		pool->respawn_delay_ms = MIN(pool->respawn_delay_ms * 2, RESPAWN_MAX_MS);
	if (live_workers(pool) < pool->opt.min_workers && pool->respawn_timer == 0)
		pool->respawn_timer = g_timeout_add(pool->respawn_delay_ms, respawn, pool);
	g_idle_add(free_later, w);
	if (!stopped)
		workers_note_death(pool);
}

static gboolean idle_stop(gpointer data)
{
	struct worker *w = data;
	w->idle_timer = 0;
	if (g_hash_table_size(w->accounts) > 0 || live_workers(w->pool) <= w->pool->opt.min_workers)
		return G_SOURCE_REMOVE;
	w->retiring = true;
	(void)queue_frame(w, WORKER_FRAME(shutdown, .account = 0));
	return G_SOURCE_REMOVE;
}

static struct worker *pick(struct workers *pool, GError **error)
{
	struct worker *best = NULL;
	for (guint i = 0; i < pool->list->len; i++) {
		struct worker *w = g_ptr_array_index(pool->list, i);
		guint n = g_hash_table_size(w->accounts);
		if (w->dead || w->retiring || w->solo || n >= pool->opt.users_per_worker)
			continue;
		/* Fill the fullest worker first: fewer processes overall. */
		if (best == NULL || n > g_hash_table_size(best->accounts))
			best = w;
	}
	return best != NULL ? best : workers_spawn(pool, error);
}

/* ---- public API ------------------------------------------------------------- */

struct workers *workers_new(const struct workers_options *options,
                            const struct workers_callbacks *callbacks, void *user_data)
{
	struct workers *pool = g_new0(struct workers, 1);
	pool->opt = *options;
	pool->opt.program = g_strdup(options->program);
	pool->opt.ca_file = g_strdup(options->ca_file);
	pool->opt.allowed_servers =
	    (const char *const *)g_strdupv((char **)options->allowed_servers);
	if (pool->opt.users_per_worker == 0)
		pool->opt.users_per_worker = 500;
	if (pool->opt.idle_stop_seconds == 0)
		pool->opt.idle_stop_seconds = 30;
	pool->cb = *callbacks;
	pool->user_data = user_data;
	pool->list = g_ptr_array_new();
	pool->by_account = g_hash_table_new(g_direct_hash, g_direct_equal);
	pool->book = inflight_book_new();
	pool->respawn_delay_ms = RESPAWN_MIN_MS;
	pool->acks_timer = g_timeout_add_seconds(1, drain_all_acks, pool);
	ensure_min(pool);
	return pool;
}

void workers_free(struct workers *pool)
{
	if (pool == NULL)
		return;
	g_clear_handle_id(&pool->respawn_timer, g_source_remove);
	g_clear_handle_id(&pool->acks_timer, g_source_remove);
	/* Ask every worker to log out and exit; closing our end of the socket
	 * tells it too. Then give them a moment before killing. */
	g_autoptr(GBytes) bye = WORKER_FRAME(shutdown, .account = 0);
	gint64 deadline = g_get_monotonic_time() + STOP_GRACE_MS * 1000 / 2;
	for (guint i = 0; i < pool->list->len; i++) {
		struct worker *w = g_ptr_array_index(pool->list, i);
		/* what is still queued (the sessions' logouts), then the request */
		frame_queue_push(&w->out, g_bytes_ref(bye));
		while (!frame_queue_is_empty(&w->out)) {
			if (frame_queue_send(&w->out, w->fd) >= 0)
				continue;
			gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
			if ((errno != EAGAIN && errno != EINTR) || left_ms <= 0)
				break; /* gone, or out of time: it sees EOF */
			struct pollfd pfd = {.fd = w->fd, .events = POLLOUT};
			(void)poll(&pfd, 1, (int)left_ms);
		}
		shutdown(w->fd, SHUT_WR);
	}
	for (int t = 0; t < STOP_GRACE_MS / 50; t++) {
		bool running = false;
		for (guint i = 0; i < pool->list->len; i++) {
			struct worker *w = g_ptr_array_index(pool->list, i);
			if (g_subprocess_get_identifier(w->proc) != NULL)
				running = true;
		}
		if (!running)
			break;
		g_usleep(50 * 1000);
	}
	for (guint i = 0; i < pool->list->len; i++) {
		struct worker *w = g_ptr_array_index(pool->list, i);
		if (g_subprocess_get_identifier(w->proc) != NULL) {
			g_warning("workers: worker %s did not stop; killing it", w->pid);
			g_subprocess_force_exit(w->proc);
		}
		workers_kill_group(w); /* its descendants too */
		worker_free(w);
	}
	g_ptr_array_unref(pool->list);
	g_hash_table_unref(pool->by_account);
	inflight_book_free(pool->book);
	workers_stats_clear(pool);
	g_free((char *)pool->opt.program);
	g_free((char *)pool->opt.ca_file);
	g_strfreev((char **)pool->opt.allowed_servers);
	g_free(pool);
}

guint32 workers_login(struct workers *pool, const struct worker_msg_login *login, GError **error)
{
	bool suspect = inflight_book_take_suspect(pool->book, login);
	struct worker *w = suspect ? workers_spawn(pool, error) : pick(pool, error);
	if (w == NULL)
		return 0;
	guint32 id = ++pool->next_account;
	if (id == 0)
		id = ++pool->next_account;
	if (suspect) {
		w->solo = true;
		g_info("workers: account %u (%s) had messages in flight when its worker died: "
		       "logging it in alone in worker %s",
		       id, login->username, w->pid);
	}
	inflight_book_add(pool->book, id, login);
	struct worker_msg_login m = *login;
	m.account = id;
	GBytes *f = worker_msg_login_frame(&m);
	g_clear_handle_id(&w->idle_timer, g_source_remove);
	g_hash_table_add(w->accounts, GUINT_TO_POINTER(id));
	g_hash_table_insert(pool->by_account, GUINT_TO_POINTER(id), w);
	if (!queue_frame(w, f)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "the worker failed");
		return 0;
	}
	return id;
}

bool workers_send(struct workers *pool, GBytes *frame)
{
	guint32 account = worker_frame_account(frame);
	struct worker *w = g_hash_table_lookup(pool->by_account, GUINT_TO_POINTER(account));
	if (w == NULL || account == 0 || inflight_book_leaving(pool->book, account)) {
		g_bytes_unref(frame);
		return false;
	}
	inflight_book_on_command(pool->book, frame);
	return queue_frame(w, frame);
}

void workers_hold(struct workers *pool, bool hold)
{
	pool->hold = hold;
	if (hold)
		return;
	g_autoptr(GPtrArray) all = g_ptr_array_copy(pool->list, NULL, NULL);
	for (guint i = 0; i < all->len; i++) {
		struct worker *w = g_ptr_array_index(all, i);
		if (!w->dead)
			flush(w);
	}
}

void workers_logout(struct workers *pool, guint32 account)
{
	struct worker *w = g_hash_table_lookup(pool->by_account, GUINT_TO_POINTER(account));
	if (w == NULL || inflight_book_leaving(pool->book, account))
		return;
	drain_acks(w); /* settle what this account sent before it goes */
	if (w->dead)
		return;
	GBytes *f = WORKER_FRAME(logout, .account = account);
	if (inflight_book_ended(pool->book, account)) {
		/* its DISCONNECTED came already: the worker will say no more */
		forget(w, account);
		(void)queue_frame(w, f);
		return;
	}
	/* Until its DISCONNECTED (LOGOUT), what the worker still says of the
	 * account -- the lines it had written count as sent, how far a message
	 * went -- is delivered (bounded: LEAVE_WAIT_MS). */
	inflight_book_leave(pool->book, account,
	                    g_get_monotonic_time() + (gint64)LEAVE_WAIT_MS * 1000);
	(void)queue_frame(w, f);
}

bool workers_leaving(struct workers *pool, guint32 account)
{
	return inflight_book_leaving(pool->book, account);
}

void workers_sync(struct workers *pool, guint32 account)
{
	struct worker *w = g_hash_table_lookup(pool->by_account, GUINT_TO_POINTER(account));
	if (w != NULL)
		drain_acks(w);
}
