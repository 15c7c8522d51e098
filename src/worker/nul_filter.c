/* nul_filter: keeps a NUL byte from an IRC server out of prpl-irc's reader.
 *
 * libpurple 2.14's read_input() (protocols/irc/irc.c) finds the end of a
 * line with strstr(), which stops at a NUL: the "line" holding it never
 * ends, stays at the start of the input buffer, and every later line of
 * that connection waits behind it while the buffer grows with them (the
 * server's PINGs go unanswered until it drops the user). A peer behind a
 * server that relays NULs can do that to any user it writes to.
 *
 * prpl-irc reads its plain socket with read(). ferry-worker exports its
 * own read() (Makefile.am: --export-dynamic-symbol), so that call lands
 * here: on the descriptors of prpl-irc connections (registered when
 * prpl-irc adds their input, loop.c's one hook) NUL bytes are removed from
 * what was read before prpl-irc sees it, as prpl-irc itself already does
 * for NULs at the start of its buffer. Every other descriptor's read goes
 * straight to the system call.
 *
 * Over TLS (IRC's default) prpl-irc reads with purple_ssl_read() instead,
 * and its read_input() has the same strstr(). ferry-worker exports its own
 * purple_ssl_read() too, so prpl-irc's call lands here; the real one
 * (dlsym RTLD_NEXT) decrypts, and NULs are removed for the TLS connections
 * of prpl-irc accounts only: the PurpleSslConnection's recv_cb_data is then
 * the PurpleConnection (as pause.c relies on). Not for every TLS
 * connection: libpurple's HTTP fetches (buddy icons, files) read with
 * purple_ssl_read() too, and their bytes may rightly be NULs. */
#include "config.h"
#include "worker.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* prpl-irc's plain sockets (fd -> the PurpleConnection); touched only on
 * the main thread, read from any: GLib's worker threads read too, but
 * never an IRC socket, and a lookup races only with a change of the set
 * for a descriptor that thread does not use. */
static GHashTable *irc_fds;
static GMutex irc_fds_lock;

static bool is_irc_connection(gpointer data)
{
	return PURPLE_CONNECTION_IS_VALID(data) &&
	       g_strcmp0(purple_account_get_protocol_id(purple_connection_get_account(data)),
	                 "prpl-irc") == 0;
}

void nul_filter_input_added(int fd, PurpleInputCondition cond, gpointer data)
{
	if (!(cond & PURPLE_INPUT_READ) || !is_irc_connection(data))
		return;
	g_mutex_lock(&irc_fds_lock);
	if (irc_fds == NULL)
		irc_fds = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_hash_table_insert(irc_fds, GINT_TO_POINTER(fd), data);
	g_mutex_unlock(&irc_fds_lock);
}

/* Whether a TLS connection is prpl-irc's (PurpleSslConnection * ->
 * GINT_TO_POINTER(1 yes, 2 no)), decided at its first read so that later
 * reads need not walk the connections. Kept only for a connection with its
 * read input (gsc->inpa): sslconn.c removes that input before it frees the
 * connection, and every removal of an input whose data is the connection
 * forgets it here, so a freed connection's address, reused, is decided
 * anew. Main thread only: prpl-irc and libpurple's HTTP fetches read TLS
 * there, where inputs are added and removed. */
static GHashTable *tls_kinds;

void nul_filter_input_removed(int fd, PurpleInputCondition cond, gpointer data)
{
	if (!(cond & PURPLE_INPUT_READ))
		return; /* prpl-irc's write handler on the same socket */
	if (tls_kinds != NULL)
		g_hash_table_remove(tls_kinds, data);
	g_mutex_lock(&irc_fds_lock);
	if (irc_fds != NULL && g_hash_table_lookup(irc_fds, GINT_TO_POINTER(fd)) == data)
		g_hash_table_remove(irc_fds, GINT_TO_POINTER(fd));
	g_mutex_unlock(&irc_fds_lock);
}

static bool filtered(int fd)
{
	g_mutex_lock(&irc_fds_lock);
	bool yes = irc_fds != NULL && g_hash_table_contains(irc_fds, GINT_TO_POINTER(fd));
	g_mutex_unlock(&irc_fds_lock);
	return yes;
}

/* Removes the NUL bytes of BUF's first N bytes; the bytes left. */
static size_t strip_nuls(char *buf, size_t n)
{
	char *end = buf + n;
	char *out = memchr(buf, '\0', n);
	if (out == NULL)
		return n;
	for (const char *in = out; in < end; in++)
		if (*in != '\0')
			*out++ = *in;
	return (size_t)(out - buf);
}

ssize_t read(int fd, void *buf, size_t count)
{
	ssize_t n = syscall(SYS_read, fd, buf, count);
	if (n <= 0 || !filtered(fd))
		return n;
	size_t kept = strip_nuls(buf, (size_t)n);
	if (kept < (size_t)n)
		g_message("IRC connection on fd %d: %zu NUL byte(s) from the server removed", fd,
		          (size_t)n - kept);
	if (kept == 0) {
		/* only NULs: not an end of file (0) -- nothing to read yet */
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)kept;
}

/* A read of only NULs must not look like the end of the stream (0), but
 * returning EAGAIN would leave the rest of an already decrypted record in
 * the TLS layer, which the socket's poll no longer announces: read on, a
 * bounded number of times (a NUL flood still cannot hold the loop). */
#define SSL_NUL_RETRIES 16

static bool is_irc_tls(PurpleSslConnection *gsc)
{
	if (gsc->inpa == 0) /* no input to forget it by: decided every time */
		return is_irc_connection(gsc->recv_cb_data);
	if (tls_kinds == NULL)
		tls_kinds = g_hash_table_new(g_direct_hash, g_direct_equal);
	int kind = GPOINTER_TO_INT(g_hash_table_lookup(tls_kinds, gsc));
	if (kind == 0) {
		kind = is_irc_connection(gsc->recv_cb_data) ? 1 : 2;
		g_hash_table_insert(tls_kinds, gsc, GINT_TO_POINTER(kind));
	}
	return kind == 1;
}

size_t purple_ssl_read(PurpleSslConnection *gsc, void *buffer, size_t len)
{
	static size_t (*next)(PurpleSslConnection *, void *, size_t);
	if (next == NULL)
		*(void **)&next = dlsym(RTLD_NEXT, "purple_ssl_read");
	size_t n = next(gsc, buffer, len);
	if (n == 0 || n == (size_t)-1 || gsc == NULL || !is_irc_tls(gsc))
		return n;
	size_t removed = 0;
	for (int i = 0;; i++) {
		size_t kept = strip_nuls(buffer, n);
		removed += n - kept;
		if (kept > 0) {
			n = kept;
			break;
		}
		if (i == SSL_NUL_RETRIES) {
			n = (size_t)-1;
			errno = EAGAIN;
			break;
		}
		n = next(gsc, buffer, len);
		if (n == 0 || n == (size_t)-1)
			break; /* end or error (errno is the real read's) */
	}
	int saved = errno; /* GLib's log writer clobbers it (ENOTSOCK) */
	if (removed > 0)
		g_message("IRC connection over TLS to %s: %zu NUL byte(s) from the server removed",
		          gsc->host != NULL ? gsc->host : "?", removed);
	errno = saved;
	return n;
}
