/* certs: ferry's own TLS certificate verifier, per account.
 *
 * libpurple 2.14's sslconn.c looks up the verifier ("x509", "tls_cached")
 * at every connect (purple_ssl_connect*: purple_certificate_find_verifier)
 * and the SSL plugin (ssl-nss here) hands it the peer's chain after the
 * handshake, with the PurpleSslConnection as the callback's data. Ours
 * replaces libpurple's under that name (certs_install). libpurple's one
 * keeps what it accepts in the tls_peers pool (~/.purple/certificates),
 * keyed by host only and marked trusted in NSS for the whole process: an
 * "Accept" by one user would trust the certificate for every account of the
 * worker. Ours stores nothing, in libpurple or NSS:
 *   1. the chain valid for the host by the CA pool (the system's CAs plus
 *      the worker's --ca-file extras, loaded into NSS by libpurple's "ca"
 *      pool) -> accepted, LINK_INFO trust CA;
 *   2. else pinned for this account (host, port, SHA-256 of the leaf: the
 *      LOGIN option ferry.cert_pins) -> accepted, trust PINNED;
 *   3. else a CERTIFICATE prompt to the account's user (prompts.c): reject,
 *      accept once (trust ONCE), always (trust PINNED; ferry stores the
 *      pin). Cancel, timeout and withdrawal reject. A pin for the same host
 *      and port with another fingerprint says the certificate changed.
 * The account is the connection's: the SSL connection's connect_cb_data is
 * the PurpleConnection for prpl-irc and prpl-jabber; else the account
 * whose callback runs now (pause.c). The port is the socket's peer's. */
#include "config.h"
#include "worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* A verification waiting for the user. */
struct pending {
	PurpleCertificateVerificationRequest *vrq;
	guint32 account;
	char *host;
	guint port;
	char *subject, *issuer, *sha256;
};

static GHashTable *pins;     /* account id -> "host port sha256" lines (owned) */
static GHashTable *failures; /* account id -> why its certificate was refused */
static bool ca_pool_loaded;  /* libpurple's "ca" pool loaded into NSS */
static PurpleCertificateVerifier verifier;

static void pending_free(struct pending *w)
{
	g_free(w->host);
	g_free(w->subject);
	g_free(w->issuer);
	g_free(w->sha256);
	g_free(w);
}

/* ---- per account --------------------------------------------------------------- */

void certs_set_pins(struct account *account, const char *text)
{
	g_hash_table_replace(pins, GUINT_TO_POINTER(account_id(account)), g_strdup(text));
}

void certs_account_gone(guint32 id)
{
	g_hash_table_remove(pins, GUINT_TO_POINTER(id));
	g_hash_table_remove(failures, GUINT_TO_POINTER(id));
}

char *certs_take_failure(struct account *account)
{
	gpointer text = NULL;
	g_hash_table_steal_extended(failures, GUINT_TO_POINTER(account_id(account)), NULL, &text);
	return text;
}

/* What the account's pins say of (HOST, PORT, SHA256): 1 pinned, -1 another
 * certificate pinned there (it changed), 0 nothing pinned there. */
static int pin_state(guint32 id, const char *host, guint port, const char *sha256)
{
	const char *text = g_hash_table_lookup(pins, GUINT_TO_POINTER(id));
	if (text == NULL)
		return 0;
	int state = 0;
	g_auto(GStrv) lines = g_strsplit(text, "\n", 1000);
	for (char **l = lines; *l != NULL; l++) {
		g_auto(GStrv) f = g_strsplit_set(g_strstrip(*l), " \t", 3);
		if (g_strv_length(f) != 3 || g_ascii_strcasecmp(f[0], host) != 0)
			continue;
		guint64 p = 0;
		if (!g_ascii_string_to_unsigned(f[1], 10, 1, 65535, &p, NULL) || p != port)
			continue;
		if (g_ascii_strcasecmp(f[2], sha256) == 0)
			return 1;
		state = -1;
	}
	return state;
}

static void pin_add(guint32 id, const char *host, guint port, const char *sha256)
{
	const char *old = g_hash_table_lookup(pins, GUINT_TO_POINTER(id));
	char *text = g_strdup_printf("%s%s%s %u %s", old != NULL ? old : "",
	                             old != NULL && *old != '\0' ? "\n" : "", host, port, sha256);
	g_hash_table_replace(pins, GUINT_TO_POINTER(id), text);
}

/* ---- what the certificate is --------------------------------------------------- */

/* "AA:BB:..." */
static char *fingerprint(PurpleCertificate *crt)
{
	GByteArray *sum = purple_certificate_get_fingerprint_sha256(crt, FALSE);
	if (sum == NULL)
		return g_strdup("");
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < sum->len; i++)
		g_string_append_printf(s, "%s%02X", i ? ":" : "", sum->data[i]);
	g_byte_array_free(sum, TRUE);
	return g_string_free(s, FALSE);
}

static char *or_empty(char *s)
{
	return s != NULL ? s : g_strdup("");
}

/* Why the CAs do not vouch for it, from libpurple's flags: plain text. */
static char *reasons(PurpleCertificateInvalidityFlags flags, const char *host,
                     PurpleCertificate *leaf)
{
	if (flags == PURPLE_CERTIFICATE_UNKNOWN_ERROR) /* -1: every bit */
		return g_strdup("it could not be checked");
	GString *s = g_string_new(NULL);
	if (flags & PURPLE_CERTIFICATE_SELF_SIGNED)
		g_string_append(s, "it is self-signed; ");
	if (flags & PURPLE_CERTIFICATE_CA_UNKNOWN)
		g_string_append(s, "it is signed by an unknown certificate authority; ");
	if (flags & PURPLE_CERTIFICATE_NAME_MISMATCH) {
		g_autofree char *cn = or_empty(purple_certificate_get_subject_name(leaf));
		g_string_append_printf(s, "it is not issued to %s (it names \"%s\"); ", host, cn);
	}
	if (flags & PURPLE_CERTIFICATE_EXPIRED)
		g_string_append(s, "it has expired; ");
	if (flags & PURPLE_CERTIFICATE_NOT_ACTIVATED)
		g_string_append(s, "it is not valid yet; ");
	if (flags & PURPLE_CERTIFICATE_INVALID_CHAIN)
		g_string_append(s, "its chain of signatures is invalid; ");
	if (flags & PURPLE_CERTIFICATE_REVOKED)
		g_string_append(s, "it has been revoked; ");
	if (flags & PURPLE_CERTIFICATE_NO_CA_POOL)
		g_string_append(s, "no certificate authorities are loaded; ");
	if (s->len == 0)
		g_string_append(s, "it could not be checked; ");
	g_string_truncate(s, s->len - 2);
	return g_string_free(s, FALSE);
}

/* The CAs' verdict on VRQ's chain for its host (0: valid). */
static PurpleCertificateInvalidityFlags ca_check(PurpleCertificateVerificationRequest *vrq)
{
	PurpleCertificateScheme *scheme = vrq->scheme;
	if (scheme == NULL || !PURPLE_CERTIFICATE_SCHEME_HAS_FUNC(scheme, verify_cert) ||
	    scheme->verify_cert == NULL)
		return PURPLE_CERTIFICATE_UNKNOWN_ERROR;
	if (!ca_pool_loaded) {
		/* the pool loads (and NSS trusts) its CAs on first use */
		PurpleCertificatePool *ca = purple_certificate_find_pool("x509", "ca");
		if (ca != NULL)
			purple_certificate_pool_destroy_idlist(
			    purple_certificate_pool_get_idlist(ca));
		ca_pool_loaded = ca != NULL;
	}
	PurpleCertificateInvalidityFlags flags = PURPLE_CERTIFICATE_NO_PROBLEMS;
	scheme->verify_cert(vrq, &flags);
	return flags;
}

/* ---- the verifier -------------------------------------------------------------- */

static struct account *connection_account(PurpleSslConnection *gsc)
{
	gpointer gc = gsc != NULL ? gsc->connect_cb_data : NULL;
	if (gc != NULL && PURPLE_CONNECTION_IS_VALID(gc))
		return accounts_find(purple_connection_get_account(gc));
	return accounts_find(pause_context());
}

static guint peer_port(PurpleSslConnection *gsc)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (gsc != NULL && gsc->fd >= 0 &&
	    getpeername(gsc->fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			return ntohs(((struct sockaddr_in *)&ss)->sin_port);
		if (ss.ss_family == AF_INET6)
			return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return gsc != NULL && gsc->port > 0 ? (guint)gsc->port : 0;
}

static void link_info(guint32 id, const struct pending *w, guint32 trust)
{
	struct account *account = accounts_lookup(id);
	if (account == NULL)
		return;
	account_link_known(account);
	account_emit(account, WORKER_FRAME(link_info, .account = id, .encrypted = true,
	                                   .subject = w->subject, .issuer = w->issuer,
	                                   .sha256 = w->sha256, .trust = trust));
}

static void trust(struct pending *w, guint32 trust, const char *how)
{
	g_message("account %u: certificate of %s port %u %s (sha256 %s)", w->account, w->host,
	          w->port, how, w->sha256);
	link_info(w->account, w, trust);
	PurpleCertificateVerificationRequest *vrq = w->vrq;
	pending_free(w);
	purple_certificate_verify_complete(vrq, PURPLE_CERTIFICATE_VALID);
}

/* Refuses W's certificate; WHY goes with the login's failure. */
static void refuse(struct pending *w, const char *why)
{
	g_message("account %u: certificate of %s port %u refused: %s", w->account, w->host, w->port,
	          why);
	if (w->account != 0)
		g_hash_table_replace(failures, GUINT_TO_POINTER(w->account), g_strdup(why));
	PurpleCertificateVerificationRequest *vrq = w->vrq;
	guint32 id = w->account;
	pending_free(w);
	/* the connection fails in here (report_disconnect_reason takes WHY) */
	purple_certificate_verify_complete(vrq, PURPLE_CERTIFICATE_INVALID);
	if (id != 0)
		g_hash_table_remove(failures, GUINT_TO_POINTER(id));
}

/* The user's answer: 0 reject, 1 once, 2 always (prompts.c's actions). */
static void on_answer(void *data, int action)
{
	struct pending *w = data;
	if (action == 1) {
		trust(w, WORKER_TRUST_ONCE, "accepted once by the user");
	} else if (action == 2) {
		pin_add(w->account, w->host, w->port, w->sha256);
		trust(w, WORKER_TRUST_PINNED, "always accepted by the user");
	} else {
		g_autofree char *why = g_strdup_printf(
		    "the certificate of %s (SHA-256 %s) is not trusted and was rejected", w->host,
		    w->sha256);
		refuse(w, why);
	}
}

static void noop_verified(PurpleCertificateVerificationStatus st, gpointer data)
{
}

void certs_prompt_withdrawn(void *data)
{
	/* the connection is gone (purple_ssl_close withdraws its requests):
	 * the request is freed without calling back into it */
	struct pending *w = data;
	g_message("account %u: certificate question for %s withdrawn", w->account, w->host);
	PurpleCertificateVerificationRequest *vrq = w->vrq;
	pending_free(w);
	vrq->cb = noop_verified;
	purple_certificate_verify_complete(vrq, PURPLE_CERTIFICATE_INVALID);
}

static void ask(struct pending *w, PurpleSslConnection *gsc, const char *why, bool changed)
{
	g_autofree char *title = g_strdup_printf("Untrusted certificate for %s", w->host);
	GString *text = g_string_new(NULL);
	if (changed)
		g_string_append_printf(text,
		                       "The certificate of %s (port %u) CHANGED: it is not the one "
		                       "you always accept for this server.\n",
		                       w->host, w->port);
	g_string_append_printf(text,
	                       "The server %s (port %u) presented a certificate that is not "
	                       "trusted: %s.\nSubject: %s\nIssuer: %s\nSHA-256 fingerprint: %s\n"
	                       "Reject it, accept it for this login only, or always accept this "
	                       "certificate for this account.",
	                       w->host, w->port, why, w->subject, w->issuer, w->sha256);
	struct prompts_certificate q = {
	    .title = title,
	    .instructions = text->str,
	    .host = w->host,
	    .port = w->port,
	    .sha256 = w->sha256,
	};
	struct account *account = accounts_lookup(w->account);
	if (account == NULL) {
		refuse(w, "the account is gone");
		g_string_free(text, TRUE);
		return;
	}
	g_message("account %u: certificate of %s port %u not trusted (%s): asking the user",
	          w->account, w->host, w->port, why);
	prompts_ask_certificate(account, gsc, &q, on_answer, w);
	g_string_free(text, TRUE);
}

static void start_verification(PurpleCertificateVerificationRequest *vrq)
{
	PurpleSslConnection *gsc = vrq->cb_data;
	PurpleCertificate *leaf = vrq->cert_chain->data;
	struct account *account = connection_account(gsc);
	struct pending *w = g_new0(struct pending, 1);
	w->vrq = vrq;
	w->host = g_strdup(vrq->subject_name);
	w->port = peer_port(gsc);
	w->subject = or_empty(purple_certificate_get_unique_id(leaf));
	w->issuer = or_empty(purple_certificate_get_issuer_unique_id(leaf));
	w->sha256 = fingerprint(leaf);
	if (account == NULL) {
		refuse(w, "the connection belongs to no account of ours");
		return;
	}
	w->account = account_id(account);
	PurpleCertificateInvalidityFlags flags = ca_check(vrq);
	if (flags == PURPLE_CERTIFICATE_NO_PROBLEMS) {
		trust(w, WORKER_TRUST_CA, "valid by the certificate authorities");
		return;
	}
	int pinned = *w->sha256 != '\0' ? pin_state(w->account, w->host, w->port, w->sha256) : 0;
	if (pinned > 0) {
		trust(w, WORKER_TRUST_PINNED, "pinned for this account");
		return;
	}
	g_autofree char *why = reasons(flags, w->host, leaf);
	ask(w, gsc, why, pinned < 0);
}

static void destroy_request(PurpleCertificateVerificationRequest *vrq)
{
	/* nothing of ours hangs on it (struct pending goes first) */
}

void certs_install(void)
{
	if (pins == NULL) {
		pins = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
		failures = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	}
	verifier.scheme_name = (gchar *)"x509";
	verifier.name = (gchar *)"tls_cached";
	verifier.start_verification = start_verification;
	verifier.destroy_request = destroy_request;
	PurpleCertificateVerifier *theirs = purple_certificate_find_verifier("x509", "tls_cached");
	if (theirs != NULL && theirs != &verifier)
		purple_certificate_unregister_verifier(theirs);
	purple_certificate_register_verifier(&verifier);
	if (purple_certificate_find_verifier("x509", "tls_cached") != &verifier)
		g_warning("ferry's certificate verifier is not the one libpurple finds");
}
