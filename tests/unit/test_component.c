/* Unit tests for the component link: the handshake digest (protocol.md test
 * vector), backoff bounds, and a scripted fake server on loopback (run in a
 * thread with blocking I/O) for the handshake, stanza flow, a refused
 * secret, reconnection and write-queue overflow. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ferry/component.h"

/* ---- log capture: warnings are expected here, so they are recorded ---- */

static GPtrArray *logged;

static GLogWriterOutput capture_log(GLogLevelFlags level, const GLogField *fields, gsize n,
                                    gpointer data)
{
	for (gsize i = 0; i < n; i++)
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			g_ptr_array_add(logged, g_strdup(fields[i].value));
	return G_LOG_WRITER_HANDLED;
}

static bool log_contains(const char *needle)
{
	for (guint i = 0; i < logged->len; i++)
		if (strstr(g_ptr_array_index(logged, i), needle) != NULL)
			return true;
	return false;
}

/* ---- the fake server ---------------------------------------------------- */

enum script {
	SCRIPT_ACCEPT_THEN_CLOSE,  /* handshake, one iq, read a message, close, accept again */
	SCRIPT_REFUSE,             /* answer every handshake with not-authorized */
	SCRIPT_STOP_READING,       /* handshake, then never read again */
	SCRIPT_CONFIRM_THEN_CLOSE, /* as ACCEPT_THEN_CLOSE, answering our ping before the close */
	SCRIPT_FORGED_CONFIRM,     /* as CONFIRM_THEN_CLOSE, but the answers are a stranger's */
};

struct server {
	int listen_fd;
	guint16 port;
	enum script script;
	GThread *thread;
	GMutex lock;
	int connections;    /* accepted so far */
	char *handshake;    /* the first <handshake> text seen */
	char *message;      /* the first <message> seen */
	int with_message;   /* connections on which a <message> came */
	volatile gint stop; /* asks the thread to finish */
};

/* Reads until NEEDLE has been seen in the data of this connection (or
 * timeout); returns the data read so far. */
static GString *read_until(int fd, GString *acc, const char *needle)
{
	char buf[4096];
	for (int i = 0; i < 200 && strstr(acc->str, needle) == NULL; i++) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			break;
		g_string_append_len(acc, buf, n);
	}
	return acc;
}

static void send_str(int fd, const char *s)
{
	(void)send(fd, s, strlen(s), MSG_NOSIGNAL);
}

static gpointer server_main(gpointer data)
{
	struct server *sv = data;
	for (int round = 0; round < 3 && !g_atomic_int_get(&sv->stop); round++) {
		int fd = accept(sv->listen_fd, NULL, NULL);
		if (fd < 0)
			break;
		struct timeval tv = {.tv_sec = 5};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		g_mutex_lock(&sv->lock);
		sv->connections++;
		g_mutex_unlock(&sv->lock);
		g_autoptr(GString) acc = g_string_new(NULL);
		read_until(fd, acc, "to='irc.localhost'>");
		send_str(fd, "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
		             "xmlns:stream='http://etherx.jabber.org/streams' id='3BF96D32' "
		             "from='irc.localhost'>");
		read_until(fd, acc, "</handshake>");
		const char *h = strstr(acc->str, "<handshake>");
		g_mutex_lock(&sv->lock);
		if (h != NULL && sv->handshake == NULL)
			sv->handshake = g_strndup(h + 11, 40);
		g_mutex_unlock(&sv->lock);
		if (sv->script == SCRIPT_REFUSE) {
			send_str(fd, "<stream:error><not-authorized "
			             "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
			             "</stream:stream>");
			close(fd);
			continue;
		}
		send_str(fd, "<handshake/>  <iq type='get' id='x1' from='alice@localhost/r' "
		             "to='irc.localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
		if (sv->script == SCRIPT_STOP_READING) {
			while (!g_atomic_int_get(&sv->stop))
				g_usleep(10000);
			close(fd);
			break;
		}
		read_until(fd, acc, "</message>");
		const char *m = strstr(acc->str, "<message");
		g_mutex_lock(&sv->lock);
		if (m != NULL && sv->message == NULL)
			sv->message = g_strdup(m);
		if (m != NULL)
			sv->with_message++;
		g_mutex_unlock(&sv->lock);
		if ((sv->script == SCRIPT_CONFIRM_THEN_CLOSE ||
		     sv->script == SCRIPT_FORGED_CONFIRM) &&
		    m != NULL) {
			/* the ping that follows written stanzas: answered by the server,
			 * or, forged, by a user with the ping's own id and by the
			 * server to guessed ids (none of which may confirm) */
			read_until(fd, acc, "ferry-ping-");
			read_until(fd, acc, "</iq>");
			const char *id = strstr(acc->str, "ferry-ping-");
			if (id != NULL) {
				g_autofree char *num = g_strndup(id, strcspn(id, "'\""));
				g_autofree char *reply =
				    sv->script == SCRIPT_CONFIRM_THEN_CLOSE
				        ? g_strdup_printf(
				              "<iq type='result' id='%s' from='localhost' "
				              "to='irc.localhost'/>",
				              num)
				        : g_strdup_printf(
				              "<iq type='result' id='%s' "
				              "from='mallory@localhost/x' to='irc.localhost'/>"
				              "<iq type='result' id='ferry-ping-1' "
				              "from='localhost' to='irc.localhost'/>"
				              "<iq type='result' id='ferry-ping-2' "
				              "from='localhost' to='irc.localhost'/>",
				              num);
				send_str(fd, reply);
				g_usleep(200000);
			}
		}
		close(fd);
	}
	return NULL;
}

static struct server *server_start(enum script script)
{
	struct server *sv = g_new0(struct server, 1);
	g_mutex_init(&sv->lock);
	sv->script = script;
	sv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	g_assert_cmpint(bind(sv->listen_fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
	g_assert_cmpint(listen(sv->listen_fd, 4), ==, 0);
	socklen_t len = sizeof sa;
	getsockname(sv->listen_fd, (struct sockaddr *)&sa, &len);
	sv->port = ntohs(sa.sin_port);
	sv->thread = g_thread_new("fake-server", server_main, sv);
	return sv;
}

static void server_free(struct server *sv)
{
	g_atomic_int_set(&sv->stop, 1);
	shutdown(sv->listen_fd, SHUT_RDWR);
	close(sv->listen_fd);
	g_thread_join(sv->thread);
	g_mutex_clear(&sv->lock);
	g_free(sv->handshake);
	g_free(sv->message);
	g_free(sv);
}

/* ---- the component under test -------------------------------------------- */

struct observed {
	int online;
	int offline;
	GPtrArray *stanzas; /* serialized */
};

static void on_online(void *data)
{
	((struct observed *)data)->online++;
}

static void on_offline(void *data)
{
	((struct observed *)data)->offline++;
}

static void on_stanza(void *data, struct stanza *s)
{
	g_ptr_array_add(((struct observed *)data)->stanzas, stanza_to_string(s));
	stanza_free(s);
}

static GArray *congestion_log; /* (key << 1 | congested) per report */

static void on_congestion(void *data, guint32 key, bool congested)
{
	(void)data;
	guint64 v = (guint64)key << 1 | congested;
	g_array_append_val(congestion_log, v);
}

static bool congestion_seen(guint32 key, bool congested)
{
	for (guint i = 0; i < congestion_log->len; i++)
		if (g_array_index(congestion_log, guint64, i) == ((guint64)key << 1 | congested))
			return true;
	return false;
}

static const struct component_callbacks callbacks = {
    .online = on_online,
    .offline = on_offline,
    .stanza = on_stanza,
    .congestion = on_congestion,
};

static struct component *new_component_ping(guint16 port, const char *secret, size_t queue,
                                            guint ping_interval, struct observed *obs)
{
	struct component_options opt = {
	    .jid = "irc.localhost",
	    .host = "127.0.0.1",
	    .port = port,
	    .secret = secret,
	    .max_queue_bytes = queue,
	    .max_backoff_ms = 2000,
	    .ping_interval = ping_interval,
	    .ping_to = "localhost",
	};
	obs->stanzas = g_ptr_array_new_with_free_func(g_free);
	return component_new(&opt, &callbacks, obs);
}

static struct component *new_component(guint16 port, const char *secret, size_t queue,
                                       struct observed *obs)
{
	return new_component_ping(port, secret, queue, 0, obs);
}

/* Runs the main loop until COND holds or about 10 s pass. */
#define RUN_UNTIL(cond)                                                                            \
	do {                                                                                       \
		gint64 deadline_ = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;                   \
		while (!(cond) && g_get_monotonic_time() < deadline_)                              \
			g_main_context_iteration(NULL, FALSE) || (g_usleep(1000), 0);              \
	} while (0)

static void test_digest(void)
{
	g_autofree char *d = component_handshake_digest("3BF96D32", "s3cret");
	g_assert_cmpstr(d, ==, "a984b871214a298f0f743fcd25f99b10838ba12b");
}

static void test_backoff(void)
{
	g_assert_cmpuint(component_backoff_ms(1, 60000, 0.0), ==, 500);
	g_assert_cmpuint(component_backoff_ms(2, 60000, 0.0), ==, 1000);
	g_assert_cmpuint(component_backoff_ms(3, 60000, 0.5), ==, 3000);
	g_assert_cmpuint(component_backoff_ms(7, 60000, 0.0), ==, 30000);
	g_assert_cmpuint(component_backoff_ms(40, 60000, 0.99), <=, 60000);
	g_assert_cmpuint(component_backoff_ms(40, 60000, 0.99), >=, 59000);
	for (guint a = 1; a < 100; a++) {
		guint lo = component_backoff_ms(a, 60000, 0.0);
		guint hi = component_backoff_ms(a, 60000, 0.9999);
		g_assert_cmpuint(lo, <=, hi);
		g_assert_cmpuint(hi, <=, 60000);
	}
}

static void test_handshake_and_reconnect(void)
{
	struct server *sv = server_start(SCRIPT_ACCEPT_THEN_CLOSE);
	struct observed obs = {0};
	struct component *c = new_component(sv->port, "s3cret", 0, &obs);
	component_start(c);
	RUN_UNTIL(obs.online == 1 && obs.stanzas->len == 1);
	g_assert_cmpint(obs.online, ==, 1);
	g_assert_true(component_is_online(c));
	g_mutex_lock(&sv->lock);
	g_assert_cmpstr(sv->handshake, ==, "a984b871214a298f0f743fcd25f99b10838ba12b");
	g_mutex_unlock(&sv->lock);
	g_assert_cmpuint(obs.stanzas->len, ==, 1);
	g_assert_nonnull(strstr(g_ptr_array_index(obs.stanzas, 0), "id=\"x1\"")
	                     ?: strstr(g_ptr_array_index(obs.stanzas, 0), "id='x1'"));

	/* A stanza without 'from' gets the component domain; one without 'to'
	 * or from another domain is refused. */
	struct stanza *bad = stanza_new("message");
	g_assert_false(component_send(c, bad));
	bad = stanza_new("message");
	stanza_set_attr(bad, "to", "alice@localhost");
	stanza_set_attr(bad, "from", "bob@evil.example");
	g_assert_false(component_send(c, bad));
	/* the domain of "x/y@irc.localhost" is x: its resource holds the '@' */
	bad = stanza_new("message");
	stanza_set_attr(bad, "to", "alice@localhost");
	stanza_set_attr(bad, "from", "evil.example/y@irc.localhost");
	g_assert_false(component_send(c, bad));
	bad = stanza_new("message");
	stanza_set_attr(bad, "to", "alice@localhost");
	stanza_set_attr(bad, "from", "a@b@irc.localhost");
	g_assert_false(component_send(c, bad));
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "to", "alice@localhost");
	stanza_add_text_child(m, "body", "a < b & c");
	g_assert_true(component_send(c, m));

	/* The server closes after reading the message: the link comes back. */
	RUN_UNTIL(obs.online == 2);
	g_assert_cmpint(obs.offline, ==, 1);
	g_assert_cmpint(obs.online, ==, 2);
	g_mutex_lock(&sv->lock);
	g_assert_nonnull(sv->message);
	g_assert_nonnull(strstr(sv->message, "irc.localhost"));
	g_assert_nonnull(strstr(sv->message, "a &lt; b &amp; c"));
	g_assert_cmpint(sv->connections, >=, 2);
	g_mutex_unlock(&sv->lock);
	/* No ping answered what was written before the close: the message is
	 * written again on the new link (at-least-once). */
	RUN_UNTIL(({
		g_mutex_lock(&sv->lock);
		int n_ = sv->with_message;
		g_mutex_unlock(&sv->lock);
		n_ >= 2;
	}));
	g_mutex_lock(&sv->lock);
	g_assert_cmpint(sv->with_message, ==, 2);
	g_mutex_unlock(&sv->lock);
	component_free(c);
	g_ptr_array_unref(obs.stanzas);
	server_free(sv);
}

/* No stanza over max_outbound_bytes reaches the server (issue 10 item 1):
 * a message's body is cut with a note, a presence is refused. */
static void test_outbound_bound(void)
{
	struct server *sv = server_start(SCRIPT_ACCEPT_THEN_CLOSE);
	struct observed obs = {.stanzas = g_ptr_array_new_with_free_func(g_free)};
	g_ptr_array_set_size(logged, 0);
	struct component_options opt = {
	    .jid = "irc.localhost",
	    .host = "127.0.0.1",
	    .port = sv->port,
	    .secret = "s3cret",
	    .max_backoff_ms = 2000,
	    .max_outbound_bytes = 1024,
	};
	struct component *c = component_new(&opt, &callbacks, &obs);
	component_start(c);
	RUN_UNTIL(obs.online == 1);
	g_assert_cmpint(obs.online, ==, 1);
	g_autofree char *amps = g_strnfill(400, '&');
	struct stanza *p = stanza_new("presence");
	stanza_set_attr(p, "to", "alice@localhost");
	stanza_add_text_child(p, "status", amps);
	g_assert_false(component_send(c, p));
	g_assert_true(log_contains("over max_outbound_bytes"));
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "to", "alice@localhost");
	stanza_add_text_child(m, "body", amps);
	g_assert_true(component_send(c, m));
	RUN_UNTIL(obs.online == 2);
	g_mutex_lock(&sv->lock);
	g_assert_nonnull(sv->message);
	const char *end = strstr(sv->message, "</message>");
	g_assert_nonnull(end);
	g_assert_cmpuint((size_t)(end - sv->message) + strlen("</message>"), <=, 1024);
	g_assert_nonnull(strstr(sv->message, "[message truncated by the transport: "));
	g_assert_null(strstr(sv->message, "<presence"));
	g_mutex_unlock(&sv->lock);
	component_free(c);
	g_ptr_array_unref(obs.stanzas);
	server_free(sv);
}

static void test_refused_secret(void)
{
	struct server *sv = server_start(SCRIPT_REFUSE);
	struct observed obs = {0};
	g_ptr_array_set_size(logged, 0);
	struct component *c = new_component(sv->port, "wrong-secret-XYZ", 0, &obs);
	component_start(c);
	RUN_UNTIL(sv->connections >= 2 && log_contains("reconnecting") && logged->len >= 3);
	g_assert_cmpint(obs.online, ==, 0);
	g_assert_true(log_contains("not-authorized"));
	g_assert_true(log_contains("check [component] secret"));
	g_assert_false(log_contains("wrong-secret-XYZ"));
	g_mutex_lock(&sv->lock);
	g_assert_cmpint(sv->connections, >=, 2); /* retried */
	g_mutex_unlock(&sv->lock);
	component_free(c);
	g_ptr_array_unref(obs.stanzas);
	server_free(sv);
}

/* The server stops reading: nothing is refused and the link stays up; the
 * owner hears of the congestion, the whole link's and the key's. */
static void test_queue_overflow(void)
{
	struct server *sv = server_start(SCRIPT_STOP_READING);
	struct observed obs = {0};
	g_ptr_array_set_size(logged, 0);
	g_array_set_size(congestion_log, 0);
	struct component *c = new_component(sv->port, "s3cret", 128 * 1024, &obs);
	component_start(c);
	RUN_UNTIL(obs.online == 1);
	g_assert_cmpint(obs.online, ==, 1);
	g_assert_true(congestion_seen(0, false)); /* online, empty */
	g_autofree char *big = g_strnfill(8000, 'x');
	int refused = 0;
	(void)component_set_key(c, 7);
	for (int i = 0; i < 2000; i++) {
		struct stanza *m = stanza_new("message");
		stanza_set_attr(m, "to", "alice@localhost");
		stanza_add_text_child(m, "body", big);
		refused += !component_send(c, m);
		g_main_context_iteration(NULL, FALSE);
	}
	g_assert_cmpuint(component_set_key(c, 0), ==, 7);
	g_assert_cmpint(refused, ==, 0);
	g_assert_cmpint(obs.offline, ==, 0); /* the link was not reopened */
	g_assert_true(component_is_online(c));
	g_assert_true(component_congested(c));
	g_assert_true(congestion_seen(0, true));
	g_assert_true(congestion_seen(7, true));
	g_assert_cmpuint(component_queued_bytes(c, 7), >, 128 * 1024);
	g_assert_cmpuint(component_queued_bytes(c, 7), ==, component_queued_bytes(c, 0));
	g_assert_false(log_contains("write queue full"));
	component_free(c);
	g_ptr_array_unref(obs.stanzas);
	server_free(sv);
}

/* SCRIPT's server reads a message, answers the ping after it (its way),
 * and closes; returns on how many connections the message came, waiting
 * up to 2 s after the reconnect for it to be written again, and in
 * *UNCONFIRMED the bytes kept for a resend when the link was back. */
static int connections_with_message(enum script script, size_t *unconfirmed)
{
	struct server *sv = server_start(script);
	struct observed obs = {0};
	struct component *c = new_component(sv->port, "s3cret", 0, &obs);
	component_start(c);
	RUN_UNTIL(obs.online == 1 && obs.stanzas->len == 1);
	g_assert_cmpint(obs.online, ==, 1);
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "to", "alice@localhost");
	stanza_set_attr(m, "id", "m1");
	stanza_add_text_child(m, "body", "hello");
	g_assert_true(component_send(c, m));
	RUN_UNTIL(obs.online == 2);
	g_assert_cmpint(obs.online, ==, 2);
	*unconfirmed = component_unconfirmed_bytes(c);
	gint64 until = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	int n = 0;
	do {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
		g_mutex_lock(&sv->lock);
		n = sv->with_message;
		g_mutex_unlock(&sv->lock);
	} while (n < 2 && g_get_monotonic_time() < until);
	component_free(c);
	g_ptr_array_unref(obs.stanzas);
	server_free(sv);
	return n;
}

/* A ping's answer confirms what was written before it: after the close,
 * the message is not written again. */
static void test_confirmed_not_resent(void)
{
	size_t unconfirmed = 1;
	g_assert_cmpint(connections_with_message(SCRIPT_CONFIRM_THEN_CLOSE, &unconfirmed), ==, 1);
	g_assert_cmpuint(unconfirmed, ==, 0);
}

/* Only the pinged server's answer to our own ping confirms: a stranger's
 * iq with the ping's id, or an answer to a guessed id, leaves the message
 * unconfirmed, and it is written again after the close. */
static void test_forged_confirmation(void)
{
	size_t unconfirmed = 0;
	g_assert_cmpint(connections_with_message(SCRIPT_FORGED_CONFIRM, &unconfirmed), ==, 2);
}

static void test_dead_link(void)
{
	/* The server completes the handshake, then goes silent: the ping is
	 * never answered, and one interval later the link is declared dead. */
	struct server *sv = server_start(SCRIPT_STOP_READING);
	struct observed obs = {0};
	g_ptr_array_set_size(logged, 0);
	struct component *c = new_component_ping(sv->port, "s3cret", 0, 1, &obs);
	component_start(c);
	RUN_UNTIL(obs.online == 1);
	g_assert_cmpint(obs.online, ==, 1);
	gint64 t0 = g_get_monotonic_time();
	RUN_UNTIL(obs.offline == 1);
	g_assert_cmpint(obs.offline, ==, 1);
	g_assert_true(log_contains("no answer to a ping"));
	/* Sent at 1 s, found unanswered at 2 s (allow scheduling slack). */
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
	component_free(c);
	g_ptr_array_unref(obs.stanzas);
	server_free(sv);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* Warnings are part of what these tests check: record, don't abort. */
	g_log_set_always_fatal(G_LOG_FATAL_MASK);
	logged = g_ptr_array_new_with_free_func(g_free);
	congestion_log = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_log_set_writer_func(capture_log, NULL, NULL);
	g_test_add_func("/component/digest", test_digest);
	g_test_add_func("/component/backoff", test_backoff);
	g_test_add_func("/component/handshake-and-reconnect", test_handshake_and_reconnect);
	g_test_add_func("/component/refused-secret", test_refused_secret);
	g_test_add_func("/component/outbound-bound", test_outbound_bound);
	g_test_add_func("/component/queue-overflow", test_queue_overflow);
	g_test_add_func("/component/dead-link", test_dead_link);
	g_test_add_func("/component/confirmed-not-resent", test_confirmed_not_resent);
	g_test_add_func("/component/forged-confirmation", test_forged_confirmation);
	int rc = g_test_run();
	g_ptr_array_unref(logged);
	g_array_unref(congestion_log);
	return rc;
}
