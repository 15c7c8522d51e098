/* channel: the worker's end of the socketpair to ferry.
 *
 * Frames are reassembled and validated by the shared worker_protocol code;
 * each command goes to accounts_handle(). Output is a queue of encoded
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
#include <string.h>
#include <unistd.h>

#include "ferry/fdwatch.h"

/* Bound on unwritten output: ferry not reading for this long is broken. */
#define MAX_QUEUED_BYTES (64u * 1024 * 1024)
#define READ_CHUNK 65536

static int channel_fd = -1;
static struct worker_reader *reader;
static GQueue out_queue = G_QUEUE_INIT; /* GBytes frames, oldest first */
static gsize out_offset;                /* bytes of the head already written */
static gsize out_bytes;                 /* total unwritten bytes */
static guint in_watch;
static guint out_watch;

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
	g_clear_handle_id(&out_watch, g_source_remove);
	close(channel_fd);
	channel_fd = -1;
	g_queue_clear_full(&out_queue, (GDestroyNotify)g_bytes_unref);
	out_bytes = out_offset = 0;
	worker_quit();
}

/* Writes as much of the queue as the socket takes. False on a fatal error
 * (the channel is then closed). */
static bool write_some(void)
{
	while (!g_queue_is_empty(&out_queue)) {
		GBytes *head = g_queue_peek_head(&out_queue);
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(head, &len);
		ssize_t n = write(channel_fd, data + out_offset, len - out_offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			channel_fail(g_strerror(errno));
			return false;
		}
		out_offset += (gsize)n;
		out_bytes -= (gsize)n;
		if (out_offset == len) {
			g_bytes_unref(g_queue_pop_head(&out_queue));
			out_offset = 0;
		}
	}
	return true;
}

static gboolean on_writable(gint fd, GIOCondition condition, gpointer user_data)
{
	if (!write_some())
		return G_SOURCE_REMOVE; /* channel_fail() removed the watch */
	if (g_queue_is_empty(&out_queue)) {
		out_watch = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

void channel_send(guint32 type, guint32 account, GVariant *payload)
{
	if (channel_fd < 0) {
		g_variant_unref(g_variant_ref_sink(payload));
		g_debug("channel closed: %s for account %u dropped", worker_msg_name(type),
		        account);
		return;
	}
	GBytes *frame = worker_frame_encode(type, account, payload);
	if (frame == NULL)
		return; /* a programming error, already logged */
	out_bytes += g_bytes_get_size(frame);
	g_queue_push_tail(&out_queue, frame);
	if (out_bytes > MAX_QUEUED_BYTES) {
		channel_fail("ferry is not reading (output queue full)");
		return;
	}
	if (out_watch == 0 && write_some() && !g_queue_is_empty(&out_queue))
		out_watch = fdwatch_add(channel_fd, G_IO_OUT, on_writable, NULL);
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
		accounts_handle(type, account, payload);
		if (channel_fd < 0)
			return false;
	}
}

static gboolean on_readable(gint fd, GIOCondition condition, gpointer user_data)
{
	static guint8 buf[READ_CHUNK];
	/* A bounded number of reads per wake-up keeps libpurple's sources fed. */
	for (int round = 0; round < 16; round++) {
		ssize_t n = read(channel_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return G_SOURCE_CONTINUE;
		if (n <= 0) {
			in_watch = 0; /* removed by returning G_SOURCE_REMOVE */
			channel_fail(n == 0 ? "ferry closed the socket" : g_strerror(errno));
			return G_SOURCE_REMOVE;
		}
		worker_reader_feed(reader, buf, (size_t)n);
		memset(buf, 0, (size_t)n); /* frames carry passwords */
		bool ok = dispatch_frames();
		accounts_send_acks();
		if (!ok)
			return G_SOURCE_REMOVE;
		if ((size_t)n < sizeof buf)
			break; /* drained; poll says when more comes */
	}
	return G_SOURCE_CONTINUE;
}

bool channel_open(int fd, GError **error)
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
	channel_fd = fd;
	reader = worker_reader_new();
	in_watch = fdwatch_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, NULL);
	return true;
}

void channel_close(guint timeout_ms)
{
	if (channel_fd >= 0) {
		g_clear_handle_id(&in_watch, g_source_remove);
		g_clear_handle_id(&out_watch, g_source_remove);
		gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
		while (!g_queue_is_empty(&out_queue) && channel_fd >= 0) {
			gint64 left = (deadline - g_get_monotonic_time()) / 1000;
			if (left <= 0)
				break;
			struct pollfd p = {.fd = channel_fd, .events = POLLOUT};
			if (poll(&p, 1, (int)left) <= 0)
				break;
			if (!write_some())
				break;
		}
		if (channel_fd >= 0)
			close(channel_fd);
		channel_fd = -1;
	}
	g_queue_clear_full(&out_queue, (GDestroyNotify)g_bytes_unref);
	out_bytes = out_offset = 0;
	g_clear_pointer(&reader, worker_reader_free);
}
