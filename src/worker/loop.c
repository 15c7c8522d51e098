/* loop: libpurple's event loop ui ops, built to scale with accounts.
 *
 * GLib's main loop visits every attached source on every iteration
 * (prepare, query, poll, check). With one input watch and two or three
 * timers per account, a worker with 500 IRC accounts had ~2000 sources and
 * spent about half its CPU per relayed message walking them and polling
 * 500 idle sockets. Here all of libpurple's inputs share one epoll
 * descriptor and all of its timeouts one ordered queue, each behind a
 * single GSource: an event costs O(log n), an idle account nothing.
 *
 * Ids: libpurple hands ids back to input_remove/timeout_remove only.
 * Ours start at LOOP_ID_BASE, far above GLib's source ids, so a stray
 * g_source_remove() of one of ours finds nothing instead of the wrong
 * source, and a GLib id passed to our remove is handed to g_source_remove.
 * A timeout's data is the caller's own pointer.
 *
 * Protocol plugins may also call g_timeout_add_seconds() themselves: prpl-irc
 * keeps a 1-second send-queue timer per connection, 500 more GLib sources
 * for 500 accounts. ferry-worker therefore defines g_timeout_add_seconds()
 * and g_source_remove() itself (exported with --export-dynamic-symbol, so
 * the plugins' calls resolve here first): on the main thread the timeout
 * joins the queue (loop_timer_of() finds it by its data), and removing one
 * of our ids removes it there; everything else goes on to GLib's own
 * functions (dlsym RTLD_NEXT). */
#include "config.h"
#include "worker.h"

#include <dlfcn.h>
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOOP_ID_BASE 0x40000000u
#define MAX_EVENTS 256

struct input {
	guint id;
	int fd;
	PurpleInputCondition cond;
	PurpleInputFunction function;
	gpointer data;
	guint glib_id;        /* fallback GLib watch when epoll refuses the fd, else 0 */
	PurpleAccount *owner; /* whose connection it serves (pause.c), or NULL */
};

struct fd_entry {
	int fd;
	GPtrArray *inputs; /* struct input * on this fd (not owned) */
	guint32 events;    /* what epoll watches for */
};

struct timer {
	guint id;
	gint64 due_us; /* monotonic; G_MAXINT64: parked (never due) */
	guint interval_ms;
	GSourceFunc function;
	gpointer data;
	GSequenceIter *pos;   /* in TIMERS; NULL while running */
	bool removed;         /* removed while running */
	bool foreign;         /* added through g_timeout_add_seconds(): in BY_DATA */
	PurpleAccount *owner; /* the account it was added for (pause.c's context) */
};

static guint next_id = LOOP_ID_BASE;
static int epfd = -1;
static GSource *io_source;
static gpointer io_tag;
static GHashTable *inputs; /* id -> struct input * (owned) */
static GHashTable *fds;    /* fd -> struct fd_entry * (owned) */
static GSource *timer_source;
static GSequence *timers;         /* struct timer *, by due time then id */
static GHashTable *timer_ids;     /* id -> struct timer * (owned) */
static GHashTable *by_data;       /* data -> foreign struct timer * (not owned) */
static GThread *loop_thread;      /* the thread that installed the loop */
static bool capturing;            /* see loop_capture_timeouts() */
static void (*batch_begin)(void); /* see loop_set_batch_hooks() */
static void (*batch_end)(void);
static guint captured;

static guint new_id(void)
{
	guint id = next_id++;
	if (next_id == 0)
		next_id = LOOP_ID_BASE;
	return id;
}

/* ---- inputs ------------------------------------------------------------------- */

static guint32 events_of(const struct fd_entry *e)
{
	guint32 ev = 0;
	for (guint i = 0; i < e->inputs->len; i++) {
		const struct input *in = g_ptr_array_index(e->inputs, i);
		if ((in->cond & PURPLE_INPUT_READ) && !pause_is_paused(in->owner))
			ev |= EPOLLIN;
		if (in->cond & PURPLE_INPUT_WRITE)
			ev |= EPOLLOUT;
	}
	return ev;
}

/* Makes epoll watch E->fd for E's inputs; false if epoll refuses it. */
static bool epoll_update(struct fd_entry *e, bool known)
{
	struct epoll_event ev = {.events = events_of(e), .data.fd = e->fd};
	int op = known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(epfd, op, e->fd, &ev) == 0)
		return true;
	/* The fd was closed and reused behind our back (epoll forgot it), or
	 * is already there: try the other operation. */
	if ((op == EPOLL_CTL_MOD && errno == ENOENT) || (op == EPOLL_CTL_ADD && errno == EEXIST))
		return epoll_ctl(epfd, op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, e->fd,
		                 &ev) == 0;
	return false;
}

static gboolean glib_input_invoke(gint fd, GIOCondition condition, gpointer data)
{
	struct input *in = data;
	PurpleInputCondition cond = 0;
	if (condition & (G_IO_IN | G_IO_HUP | G_IO_ERR))
		cond |= PURPLE_INPUT_READ;
	if (condition & (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL))
		cond |= PURPLE_INPUT_WRITE;
	in->function(in->data, fd, cond & in->cond);
	return G_SOURCE_CONTINUE;
}

guint loop_input_add(int fd, PurpleInputCondition cond, PurpleInputFunction function, gpointer data)
{
	struct input *in = g_new0(struct input, 1);
	in->id = new_id();
	in->fd = fd;
	in->cond = cond;
	in->function = function;
	in->data = data;
	in->owner = pause_owner(function, data, pause_context());
	struct fd_entry *e = g_hash_table_lookup(fds, GINT_TO_POINTER(fd));
	bool known = e != NULL;
	if (e == NULL) {
		/* Chat protocols write a line per message and wait for nothing:
		 * Nagle would hold a line until the server acknowledges the last
		 * (up to its delayed-ACK timeout). Fails harmlessly (ENOTSOCK,
		 * EOPNOTSUPP) for descriptors that are not TCP sockets. */
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		e = g_new0(struct fd_entry, 1);
		e->fd = fd;
		e->inputs = g_ptr_array_new();
		g_hash_table_insert(fds, GINT_TO_POINTER(fd), e);
	}
	g_ptr_array_add(e->inputs, in);
	if (!epoll_update(e, known)) {
		/* Not pollable by epoll (a regular file): a GLib watch then. */
		g_ptr_array_remove(e->inputs, in);
		if (e->inputs->len == 0)
			g_hash_table_remove(fds, GINT_TO_POINTER(fd)); /* frees E */
		GIOCondition gc = 0;
		if (cond & PURPLE_INPUT_READ)
			gc |= G_IO_IN | G_IO_HUP | G_IO_ERR;
		if (cond & PURPLE_INPUT_WRITE)
			gc |= G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL;
		in->glib_id = g_unix_fd_add(fd, gc, glib_input_invoke, in);
	}
	g_hash_table_insert(inputs, GUINT_TO_POINTER(in->id), in);
	nul_filter_input_added(fd, cond, data); /* prpl-irc's sockets: see nul_filter.c */
	return in->id;
}

gboolean loop_input_remove(guint id)
{
	if (id < LOOP_ID_BASE)
		return g_source_remove(id);
	struct input *in = g_hash_table_lookup(inputs, GUINT_TO_POINTER(id));
	if (in == NULL)
		return FALSE;
	nul_filter_input_removed(in->fd, in->cond, in->data);
	if (in->glib_id != 0) {
		g_source_remove(in->glib_id);
	} else {
		struct fd_entry *e = g_hash_table_lookup(fds, GINT_TO_POINTER(in->fd));
		g_ptr_array_remove(e->inputs, in);
		if (e->inputs->len > 0) {
			(void)epoll_update(e, true);
		} else {
			/* may fail harmlessly: the fd may be closed already */
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL);
			g_hash_table_remove(fds, GINT_TO_POINTER(in->fd)); /* frees E */
		}
	}
	g_hash_table_remove(inputs, GUINT_TO_POINTER(id)); /* frees IN */
	return TRUE;
}

static gboolean io_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	(void)source;
	(void)callback;
	(void)user_data;
	struct epoll_event evs[MAX_EVENTS];
	int n = epoll_wait(epfd, evs, MAX_EVENTS, 0);
	if (batch_begin != NULL)
		batch_begin(); /* the events of this batch go to ferry together */
	for (int i = 0; i < n; i++) {
		struct fd_entry *e = g_hash_table_lookup(fds, GINT_TO_POINTER(evs[i].data.fd));
		if (e == NULL)
			continue;
		PurpleInputCondition ready = 0;
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			ready |= PURPLE_INPUT_READ;
		if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			ready |= PURPLE_INPUT_WRITE;
		/* Callbacks may remove any input, this fd's included: work from
		 * ids and look each one up again. */
		guint ids[8];
		guint count = MIN(e->inputs->len, G_N_ELEMENTS(ids));
		for (guint k = 0; k < count; k++)
			ids[k] = ((struct input *)g_ptr_array_index(e->inputs, k))->id;
		int fd = e->fd;
		for (guint k = 0; k < count; k++) {
			struct input *in = g_hash_table_lookup(inputs, GUINT_TO_POINTER(ids[k]));
			PurpleInputCondition cond = in != NULL ? in->cond & ready : 0;
			if (in != NULL && pause_is_paused(in->owner) &&
			    !(evs[i].events & (EPOLLHUP | EPOLLERR)))
				cond &= ~PURPLE_INPUT_READ; /* paused in this batch */
			if (in != NULL && in->fd == fd && cond != 0) {
				PurpleAccount *prev = pause_enter(in->owner);
				in->function(in->data, fd, cond);
				pause_leave(prev);
			}
		}
	}
	if (batch_end != NULL)
		batch_end();
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs io_funcs = {.dispatch = io_dispatch};

PurpleInputFunction loop_input_function(guint id)
{
	struct input *in = g_hash_table_lookup(inputs, GUINT_TO_POINTER(id));
	return in != NULL ? in->function : NULL;
}

guint loop_refresh_owner(PurpleAccount *owner)
{
	guint n = 0;
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, inputs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct input *in = value;
		in->owner = pause_owner(in->function, in->data, in->owner);
		struct fd_entry *e = g_hash_table_lookup(fds, GINT_TO_POINTER(in->fd));
		if (in->owner == owner && e != NULL && (in->cond & PURPLE_INPUT_READ)) {
			(void)epoll_update(e, true);
			n++;
		}
	}
	return n;
}

/* ---- timeouts ----------------------------------------------------------------- */

static void timer_free(gpointer data)
{
	struct timer *t = data;
	if (t->foreign && by_data != NULL && g_hash_table_lookup(by_data, t->data) == t)
		g_hash_table_remove(by_data, t->data);
	g_free(t);
}

static gint timer_cmp(gconstpointer a, gconstpointer b, gpointer user_data)
{
	(void)user_data;
	const struct timer *x = a, *y = b;
	if (x->due_us != y->due_us)
		return x->due_us < y->due_us ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void timer_queue(struct timer *t)
{
	t->pos = g_sequence_insert_sorted(timers, t, timer_cmp, NULL);
}

static guint timer_add(guint interval_ms, GSourceFunc function, gpointer data)
{
	struct timer *t = g_new0(struct timer, 1);
	t->id = new_id();
	t->interval_ms = interval_ms;
	t->due_us = g_get_monotonic_time() + (gint64)interval_ms * 1000;
	t->function = function;
	t->data = data;
	t->owner = pause_context();
	g_hash_table_insert(timer_ids, GUINT_TO_POINTER(t->id), t);
	timer_queue(t);
	if (capturing && data == NULL && captured == 0)
		captured = t->id;
	return t->id;
}

guint loop_timeout_add(guint interval_ms, GSourceFunc function, gpointer data)
{
	return timer_add(interval_ms, function, data);
}

guint loop_timeout_add_seconds(guint interval, GSourceFunc function, gpointer data)
{
	return timer_add(interval * 1000, function, data);
}

gboolean loop_timeout_remove(guint id)
{
	if (id < LOOP_ID_BASE)
		return g_source_remove(id);
	struct timer *t = g_hash_table_lookup(timer_ids, GUINT_TO_POINTER(id));
	if (t == NULL || t->removed)
		return FALSE;
	if (t->pos == NULL) {
		t->removed = true; /* running: freed when its callback returns */
		return TRUE;
	}
	g_sequence_remove(t->pos);
	g_hash_table_remove(timer_ids, GUINT_TO_POINTER(id)); /* frees T */
	return TRUE;
}

bool loop_timeout_park(guint id)
{
	struct timer *t = g_hash_table_lookup(timer_ids, GUINT_TO_POINTER(id));
	if (t == NULL || t->pos == NULL)
		return false;
	g_sequence_remove(t->pos);
	t->due_us = G_MAXINT64;
	timer_queue(t);
	return true;
}

void loop_capture_timeouts(bool on)
{
	capturing = on;
	if (on)
		captured = 0;
}

guint loop_captured_timeout(void)
{
	return captured;
}

static gint64 next_due(void)
{
	GSequenceIter *first = g_sequence_get_begin_iter(timers);
	if (g_sequence_iter_is_end(first))
		return G_MAXINT64;
	return ((struct timer *)g_sequence_get(first))->due_us;
}

static gboolean timer_prepare(GSource *source, gint *timeout)
{
	gint64 due = next_due();
	if (due == G_MAXINT64) {
		*timeout = -1;
		return FALSE;
	}
	gint64 now = g_source_get_time(source);
	if (due <= now) {
		*timeout = 0;
		return TRUE;
	}
	gint64 ms = (due - now + 999) / 1000;
	*timeout = ms > G_MAXINT ? G_MAXINT : (gint)ms;
	return FALSE;
}

static gboolean timer_check(GSource *source)
{
	return next_due() <= g_source_get_time(source);
}

static gboolean timer_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	(void)callback;
	(void)user_data;
	/* Take the due timers out first: one that is due again at once (0 ms)
	 * waits for the next iteration instead of looping here. */
	gint64 now = g_source_get_time(source);
	g_autoptr(GPtrArray) due = g_ptr_array_new();
	GSequenceIter *it = g_sequence_get_begin_iter(timers);
	while (!g_sequence_iter_is_end(it)) {
		struct timer *t = g_sequence_get(it);
		if (t->due_us > now)
			break;
		GSequenceIter *next = g_sequence_iter_next(it);
		g_sequence_remove(it);
		t->pos = NULL;
		g_ptr_array_add(due, t);
		it = next;
	}
	if (batch_begin != NULL)
		batch_begin();
	for (guint i = 0; i < due->len; i++) {
		struct timer *t = g_ptr_array_index(due, i);
		PurpleAccount *prev = pause_enter(t->owner);
		bool again = !t->removed && t->function(t->data);
		pause_leave(prev);
		if (again && !t->removed) {
			t->due_us = g_get_monotonic_time() + (gint64)t->interval_ms * 1000;
			timer_queue(t);
		} else {
			g_hash_table_remove(timer_ids, GUINT_TO_POINTER(t->id)); /* frees T */
		}
	}
	if (batch_end != NULL)
		batch_end();
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {
    .prepare = timer_prepare,
    .check = timer_check,
    .dispatch = timer_dispatch,
};

guint loop_timer_of(gpointer data)
{
	struct timer *t = by_data != NULL ? g_hash_table_lookup(by_data, data) : NULL;
	return t != NULL && !t->removed ? t->id : 0;
}

bool loop_timer_run(guint id)
{
	struct timer *t =
	    timer_ids != NULL ? g_hash_table_lookup(timer_ids, GUINT_TO_POINTER(id)) : NULL;
	if (t == NULL || t->removed)
		return false;
	if (t->pos == NULL)
		return true; /* running now (this is a call from inside it) */
	g_sequence_remove(t->pos);
	t->pos = NULL;
	bool again = t->function(t->data);
	if (again && !t->removed) {
		t->due_us = g_get_monotonic_time() + (gint64)t->interval_ms * 1000;
		timer_queue(t);
		return true;
	}
	g_hash_table_remove(timer_ids, GUINT_TO_POINTER(t->id)); /* frees T */
	return false;
}

static bool ours(void)
{
	return timer_ids != NULL && g_thread_self() == loop_thread;
}

guint g_timeout_add_seconds(guint interval, GSourceFunc function, gpointer data)
{
	static guint (*next)(guint, GSourceFunc, gpointer);
	if (!ours()) {
		if (next == NULL)
			*(void **)&next = dlsym(RTLD_NEXT, "g_timeout_add_seconds");
		return next(interval, function, data);
	}
	guint id = timer_add(interval * 1000, function, data);
	struct timer *t = g_hash_table_lookup(timer_ids, GUINT_TO_POINTER(id));
	t->foreign = true;
	if (!g_hash_table_contains(by_data, data))
		g_hash_table_insert(by_data, data, t);
	return id;
}

gboolean g_source_remove(guint id)
{
	static gboolean (*next)(guint);
	if (id >= LOOP_ID_BASE && timer_ids != NULL) {
		if (g_hash_table_contains(timer_ids, GUINT_TO_POINTER(id)))
			return loop_timeout_remove(id);
		if (g_hash_table_contains(inputs, GUINT_TO_POINTER(id)))
			return loop_input_remove(id);
	}
	if (next == NULL)
		*(void **)&next = dlsym(RTLD_NEXT, "g_source_remove");
	return next(id);
}

/* ---- ui ops ------------------------------------------------------------------- */

static void free_fd_entry(gpointer data)
{
	struct fd_entry *e = data;
	g_ptr_array_unref(e->inputs);
	g_free(e);
}

static PurpleEventLoopUiOps eventloop_ops = {
    .timeout_add = loop_timeout_add,
    .timeout_remove = loop_timeout_remove,
    .input_add = loop_input_add,
    .input_remove = loop_input_remove,
    .timeout_add_seconds = loop_timeout_add_seconds,
};

void loop_set_batch_hooks(void (*begin)(void), void (*end)(void))
{
	batch_begin = begin;
	batch_end = end;
}

bool loop_install(GError **error)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            "epoll_create1: %s", g_strerror(errno));
		return false;
	}
	inputs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	fds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free_fd_entry);
	timers = g_sequence_new(NULL);
	timer_ids = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, timer_free);
	by_data = g_hash_table_new(g_direct_hash, g_direct_equal);
	loop_thread = g_thread_self();

	io_source = g_source_new(&io_funcs, sizeof(GSource));
	g_source_set_name(io_source, "libpurple inputs");
	io_tag = g_source_add_unix_fd(io_source, epfd, G_IO_IN);
	g_source_set_can_recurse(io_source, TRUE); /* see include/ferry/fdwatch.h */
	g_source_attach(io_source, NULL);
	timer_source = g_source_new(&timer_funcs, sizeof(GSource));
	g_source_set_name(timer_source, "libpurple timeouts");
	g_source_set_can_recurse(timer_source, TRUE);
	g_source_attach(timer_source, NULL);
	purple_eventloop_set_ui_ops(&eventloop_ops);
	/* Plugins reach our g_timeout_add_seconds() only if the executable
	 * exports it (Makefile.am: --export-dynamic-symbol); otherwise their
	 * timers stay GLib's and prpl-irc sends once a second. */
	if (dlsym(RTLD_DEFAULT, "g_timeout_add_seconds") != (void *)g_timeout_add_seconds)
		g_warning("g_timeout_add_seconds is not interposed: prpl-irc will send its "
		          "queue once a second (was ferry-worker linked with "
		          "--export-dynamic-symbol?)");
	return true;
}

void loop_uninstall(void)
{
	if (epfd < 0)
		return;
	g_source_destroy(io_source);
	g_clear_pointer(&io_source, g_source_unref);
	g_source_destroy(timer_source);
	g_clear_pointer(&timer_source, g_source_unref);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, inputs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct input *in = value;
		if (in->glib_id != 0)
			g_source_remove(in->glib_id);
	}
	g_clear_pointer(&fds, g_hash_table_destroy);
	g_clear_pointer(&inputs, g_hash_table_destroy);
	g_clear_pointer(&timers, g_sequence_free);
	g_clear_pointer(&timer_ids, g_hash_table_destroy);
	g_clear_pointer(&by_data, g_hash_table_destroy);
	close(epfd);
	epfd = -1;
}
