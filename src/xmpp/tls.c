/* tls: OpenSSL client sessions for the component link (Direct TLS). */
#include "config.h"
#include "tls.h"

#include <gio/gio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

struct tls {
	SSL_CTX *ctx; /* per session: reconnects are rare, and each may use a new CA file */
	SSL *ssl;
	char *name; /* the name the certificate must carry */
};

/* The queued OpenSSL errors as one line, clearing the queue. */
static char *openssl_errors(void)
{
	GString *s = g_string_new(NULL);
	unsigned long e;
	while ((e = ERR_get_error()) != 0) {
		char buf[256];
		ERR_error_string_n(e, buf, sizeof buf);
		if (s->len > 0)
			g_string_append(s, "; ");
		g_string_append(s, buf);
	}
	if (s->len == 0)
		g_string_append(s, "unknown error");
	return g_string_free(s, FALSE);
}

struct tls *tls_new(int fd, const char *name, const char *ca_file, GError **error)
{
	struct tls *t = g_new0(struct tls, 1);
	t->name = g_strdup(name);
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(t->ctx,
	                 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	int ok = ca_file != NULL ? SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL)
	                         : SSL_CTX_set_default_verify_paths(t->ctx);
	if (ok != 1) {
		g_autofree char *why = openssl_errors();
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot load CA %s: %s",
		            ca_file != NULL ? ca_file : "system store", why);
		tls_free(t);
		return NULL;
	}
	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1)
		goto fail;
	GInetAddress *ip = g_inet_address_new_from_string(name);
	if (ip != NULL) {
		g_object_unref(ip);
		X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(t->ssl, name) != 1 || SSL_set1_host(t->ssl, name) != 1)
			goto fail;
		SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	}
	return t;
fail : {
	g_autofree char *why = openssl_errors();
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot set up TLS: %s", why);
	tls_free(t);
	return NULL;
}
}

void tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL)
		SSL_free(t->ssl);
	if (t->ctx != NULL)
		SSL_CTX_free(t->ctx);
	g_free(t->name);
	g_free(t);
}

/* Maps an OpenSSL result to tls_io, describing errors in ERROR. */
static enum tls_io map_result(struct tls *t, int ret, const char *what, GError **error)
{
	int e = SSL_get_error(t->ssl, ret);
	switch (e) {
	case SSL_ERROR_NONE:
		return TLS_IO_OK;
	case SSL_ERROR_WANT_READ:
		return TLS_IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_IO_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
			            "TLS %s: connection closed by the server", what);
			return TLS_IO_ERROR;
		}
		break;
	default:
		break;
	}
	long verify = SSL_get_verify_result(t->ssl);
	if (verify != X509_V_OK) {
		ERR_clear_error();
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "TLS certificate verification failed for %s: %s", t->name,
		            X509_verify_cert_error_string(verify));
		return TLS_IO_ERROR;
	}
	g_autofree char *why = openssl_errors();
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "TLS %s failed: %s", what, why);
	return TLS_IO_ERROR;
}

enum tls_io tls_handshake(struct tls *t, GError **error)
{
	ERR_clear_error();
	int ret = SSL_connect(t->ssl);
	if (ret == 1)
		return TLS_IO_OK;
	return map_result(t, ret, "handshake", error);
}

enum tls_io tls_read(struct tls *t, char *buf, size_t len, size_t *got, GError **error)
{
	ERR_clear_error();
	int ret = SSL_read_ex(t->ssl, buf, len, got);
	if (ret == 1)
		return TLS_IO_OK;
	return map_result(t, ret, "read", error);
}

enum tls_io tls_write(struct tls *t, const char *buf, size_t len, size_t *done, GError **error)
{
	ERR_clear_error();
	int ret = SSL_write_ex(t->ssl, buf, len, done);
	if (ret == 1)
		return TLS_IO_OK;
	return map_result(t, ret, "write", error);
}

gboolean tls_pending(const struct tls *t)
{
	return SSL_pending(t->ssl) > 0;
}

void tls_shutdown(struct tls *t)
{
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}
