/* tls: a client-side OpenSSL session over an already connected,
 * non-blocking socket, for the component link's Direct TLS.
 *
 * The peer certificate is verified against the system store or a CA file
 * and must match the expected name (DNS name or IP literal); SNI is sent for
 * DNS names. Internal to src/xmpp: only component.c uses it.
 */
#ifndef FERRY_TLS_H
#define FERRY_TLS_H

#include <glib.h>
#include <stddef.h>

struct tls;

enum tls_io {
	TLS_IO_OK,         /* progress was made */
	TLS_IO_WANT_READ,  /* retry when the socket is readable */
	TLS_IO_WANT_WRITE, /* retry when the socket is writable */
	TLS_IO_CLOSED,     /* the peer closed the TLS session */
	TLS_IO_ERROR,      /* failure; the GError says why */
};

/* Prepares a session on FD, verifying NAME. CA_FILE NULL: system store.
 * Returns NULL with ERROR set when OpenSSL cannot be set up. */
struct tls *tls_new(int fd, const char *name, const char *ca_file, GError **error);
void tls_free(struct tls *tls);

/* Drives the handshake; TLS_IO_OK when it has completed. A verification
 * failure is TLS_IO_ERROR with a message naming NAME and the reason. */
enum tls_io tls_handshake(struct tls *tls, GError **error);

/* Reads into BUF; *GOT is set on TLS_IO_OK. */
enum tls_io tls_read(struct tls *tls, char *buf, size_t len, size_t *got, GError **error);

/* Writes from BUF (partial writes allowed); *DONE is set on TLS_IO_OK. */
enum tls_io tls_write(struct tls *tls, const char *buf, size_t len, size_t *done, GError **error);

/* true when decrypted bytes wait inside OpenSSL (poll will not report them). */
gboolean tls_pending(const struct tls *tls);

/* Sends close_notify, best effort. */
void tls_shutdown(struct tls *tls);

#endif
