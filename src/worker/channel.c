/* channel: the worker's end of the socketpair to ferry.
 *
 * Frames are reassembled and validated by the shared worker_protocol code;
 * each command goes to the handler given to channel_open(). Output is a queue of encoded
 * frames written as the socket accepts them. EOF, a read or write error or
 * a bad frame all mean ferry is gone or broken: the channel closes and the
 * worker quits (ferry restarts workers; a worker never retries). */
#include "config.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ferry/fdwatch.h"

/* Bound on unwritten output: ferry not reading for this long is broken. */
#define MAX_QUEUED_BYTES (64u * 1024 * 1024)
#define READ_CHUNK 65536

/* Frames waiting for a socket that did not take them at once. */
struct outq {
	int fd;                 /* -1: closed */
	struct frame_queue out; /* unwritten frames */
	guint watch;            /* writability, while OUT is not empty */
};

static int channel_fd = -1;
static struct worker_reader *reader;
static struct outq out = {.fd = -1, .out = FRAME_QUEUE_INIT};
static struct outq acks = {.fd = -1, .out = FRAME_QUEUE_INIT}; /* see channel_open_acks() */
static guint in_watch;
static const struct channel_handler *handler;
static int corked; /* channel_cork() depth: frames wait for channel_uncork() */

/* TEST ONLY: FERRY_WORKER_TEST_CRASH_ON=<text> in the worker's environment
 * makes it abort on a SEND_IM whose frame holds TEXT: a plugin crashing on
 * one message, for tests/integration/test_faults.py. Unset (always, outside
 * the tests) nothing is looked at. */
static char *test_crash_on;

static void test_crash_check(guint32 type, GBytes *body)
{
	gsize n = 0;
	const void *p = g_bytes_get_data(body, &n);
	if (type == WORKER_SEND_IM && memmem(p, n, test_crash_on, strlen(test_crash_on)) != NULL) {
		g_message("FERRY_WORKER_TEST_CRASH_ON matched a message: aborting (a test crash)");
		struct rlimit none = {0, 0};
		(void)setrlimit(RLIMIT_CORE, &none);
		abort();
	}
}

static void outq_clear(struct outq *q)
{
	g_clear_handle_id(&q->watch, g_source_remove);
	frame_queue_clear(&q->out);
}

static bool shutdown_seen; /* ferry said WORKER_SHUTDOWN: its EOF is expected */

static void channel_fail(const char *why)
{
	if (channel_fd < 0)
		return;
	if (shutdown_seen)
		g_message("channel to ferry: %s after the shutdown request", why);
	else
		g_warning("channel to ferry: %s; quitting", why);
	g_clear_handle_id(&in_watch, g_source_remove);
	outq_clear(&out);
	outq_clear(&acks);
	close(channel_fd);
	channel_fd = out.fd = -1;
	if (acks.fd >= 0)
		close(acks.fd);
	acks.fd = -1;
	worker_quit();
}

/* Writes as much of Q as its socket takes. False on a fatal error (the
 * channel is then closed). */
static bool write_some(struct outq *q)
{
	while (!frame_queue_is_empty(&q->out)) {
		if (frame_queue_send(&q->out, q->fd) >= 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		channel_fail(g_strerror(errno));
		return false;
	}
	return true;
}

static gboolean on_writable(gint fd, GIOCondition condition, gpointer user_data)
{
	struct outq *q = user_data;
	if (!write_some(q))
		return G_SOURCE_REMOVE; /* channel_fail() removed the watch */
	if (frame_queue_is_empty(&q->out)) {
		q->watch = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void outq_send(struct outq *q, GBytes *frame)
{
	frame_queue_push(&q->out, frame);
	if (q->out.bytes > MAX_QUEUED_BYTES) {
		channel_fail("ferry is not reading (output queue full)");
		return;
	}
	if (corked == 0 && q->watch == 0 && write_some(q) && !frame_queue_is_empty(&q->out))
		q->watch = fdwatch_add(q->fd, G_IO_OUT, on_writable, q);
}

void channel_cork(void)
{
	corked++;
}

void channel_uncork(void)
{
	g_return_if_fail(corked > 0);
	if (--corked > 0)
		return;
	struct outq *queues[] = {&acks, &out}; /* acknowledgements first */
	for (gsize i = 0; i < G_N_ELEMENTS(queues) && channel_fd >= 0; i++) {
		struct outq *q = queues[i];
		if (q->fd >= 0 && q->watch == 0 && !frame_queue_is_empty(&q->out) &&
		    write_some(q) && !frame_queue_is_empty(&q->out))
			q->watch = fdwatch_add(q->fd, G_IO_OUT, on_writable, q);
	}
}

void channel_send(GBytes *frame)
{
	if (frame == NULL)
		return; /* a programming error, already logged */
	guint32 type = worker_frame_type(frame);
	if (channel_fd < 0) {
		g_debug("channel closed: %s for account %u dropped", worker_msg_name(type),
		        worker_frame_account(frame));
		g_bytes_unref(frame);
		return;
	}
	/* Successes go where ferry reads them when it needs them, without a
	 * wake-up (worker_protocol.h, WORKER_ACKS_FD). A failure goes at once
	 * on the main socket, and a copy on the acknowledgement socket, ahead
	 * of the IMS_SENT that will pass over its sequence number: ferry may
	 * read that socket first (ferry ignores whichever copy comes second). */
	bool acks_open = acks.fd >= 0 && acks.watch == 0; /* not blocked */
	bool lazy = (type == WORKER_IMS_SENT || type == WORKER_IM_PROGRESS) && acks_open;
	if (type == WORKER_IM_RESULT && acks_open)
		outq_send(&acks, g_bytes_ref(frame));
	outq_send(lazy ? &acks : &out, frame);
}

/* Decodes and dispatches every complete frame. False when the channel
 * failed (or the worker is quitting) and reading must stop. */
static bool dispatch_frames(void)
{
	for (;;) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) body = worker_reader_next(reader, &error);
		if (body == NULL) {
			if (error == NULL)
				return true;
			channel_fail(error->message);
			return false;
		}
		guint32 type = 0, account = 0;
		g_autoptr(GVariant) payload = NULL;
		if (!worker_frame_decode(body, &type, &account, &payload, &error)) {
			channel_fail(error->message);
			return false;
		}
		if (type >= WORKER_READY) {
			channel_fail("ferry sent an event, not a command");
			return false;
		}
		if (type == WORKER_SHUTDOWN)
			shutdown_seen = true;
		if (test_crash_on != NULL)
			test_crash_check(type, body);
		handler->command(type, account, payload);
		if (channel_fd < 0)
			return false;
	}
}

/* Reads and carries out what ferry sent; false when the channel is gone. */
static bool read_commands(void)
{
	static guint8 buf[READ_CHUNK];
	/* A bounded number of reads per wake-up keeps libpurple's sources fed. */
	for (int round = 0; round < 16; round++) {
		ssize_t n = read(channel_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			in_watch = 0; /* removed by returning G_SOURCE_REMOVE */
			channel_fail(n == 0 ? "ferry closed the socket" : g_strerror(errno));
			return false;
		}
		worker_reader_feed(reader, buf, (size_t)n);
		memset(buf, 0, (size_t)n); /* frames carry passwords */
		bool ok = dispatch_frames();
		handler->batch_done();
		if (!ok)
			return false;
		if ((size_t)n < sizeof buf)
			break; /* drained; poll says when more comes */
	}
	return true;
}

static gboolean on_readable(gint fd, GIOCondition condition, gpointer user_data)
{
	/* What the commands cause goes out together, after them. */
	channel_cork();
	bool ok = read_commands();
	channel_uncork();
	return ok ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

bool channel_open(int fd, const struct channel_handler *command_handler, GError **error)
{
	g_return_val_if_fail(channel_fd < 0, false);
	int fdflags = fcntl(fd, F_GETFD);
	int flflags = fcntl(fd, F_GETFL);
	if (fdflags < 0 || flflags < 0 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, flflags | O_NONBLOCK) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		            "fd %d (the socket to ferry): %s", fd, g_strerror(errno));
		return false;
	}
	channel_fd = out.fd = fd;
	handler = command_handler;
	reader = worker_reader_new();
	const char *crash_on = g_getenv("FERRY_WORKER_TEST_CRASH_ON");
	if (crash_on != NULL && *crash_on != '\0')
		test_crash_on = g_strdup(crash_on);
	in_watch = fdwatch_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, NULL);
	return true;
}

/* Writes what Q holds, waiting at most until DEADLINE (monotonic). */
static void outq_drain(struct outq *q, gint64 deadline)
{
	g_clear_handle_id(&q->watch, g_source_remove);
	while (!frame_queue_is_empty(&q->out) && q->fd >= 0) {
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		if (left <= 0)
			break;
		struct pollfd p = {.fd = q->fd, .events = POLLOUT};
		if (poll(&p, 1, (int)left) <= 0)
			break;
		if (!write_some(q))
			break;
	}
}

bool channel_open_acks(int fd, GError **error)
{
	g_return_val_if_fail(acks.fd < 0, false);
	int fdflags = fcntl(fd, F_GETFD);
	int flflags = fcntl(fd, F_GETFL);
	if (fdflags < 0 || flflags < 0 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, flflags | O_NONBLOCK) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		            "fd %d (the acknowledgement socket): %s", fd, g_strerror(errno));
		return false;
	}
	acks.fd = fd;
	return true;
}

void channel_close(guint timeout_ms)
{
	if (channel_fd >= 0) {
		g_clear_handle_id(&in_watch, g_source_remove);
		gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
		outq_drain(&acks, deadline); /* before the events that depend on them */
		outq_drain(&out, deadline);
		if (channel_fd >= 0)
			close(channel_fd);
		channel_fd = out.fd = -1;
	}
	if (acks.fd >= 0)
		close(acks.fd);
	acks.fd = -1;
	outq_clear(&out);
	outq_clear(&acks);
	g_clear_pointer(&reader, worker_reader_free);
}
