/* ferry-worker: runs libpurple headless for the accounts ferry hands it and
 * talks to ferry over an inherited socket (worker_protocol.h). This file
 * reads the command line, sets up the process and runs the main loop; the
 * work is done by the modules listed in worker.h. */
#include "config.h"
#include "worker.h"

#include "ferry/log.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static GMainLoop *loop;

void worker_quit(void)
{
	if (loop != NULL && g_main_loop_is_running(loop))
		g_main_loop_quit(loop);
}

static gboolean on_signal(gpointer user_data)
{
	g_message("signal %d: shutting down", GPOINTER_TO_INT(user_data));
	worker_quit();
	return G_SOURCE_CONTINUE;
}

static bool parse_args(int argc, char **argv, struct worker_config *config)
{
	int fd = WORKER_FD;
	int acks_fd = -1;
	int login_timeout = 60;
	gboolean debug = FALSE;
	char *describe = NULL;
	char **ca_files = NULL;
	char **allowed = NULL;
	gboolean deny_internal = FALSE;
	GOptionEntry entries[] = {
	    {"fd", 0, 0, G_OPTION_ARG_INT, &fd, "socket to ferry (default 3)", "N"},
	    {"acks-fd", 0, 0, G_OPTION_ARG_INT, &acks_fd,
	     "socket for sent-message acknowledgements (default: none, they go to --fd)", "N"},
	    {"describe", 0, 0, G_OPTION_ARG_STRING, &describe,
	     "print what PROTOCOL_ID needs at registration and exit", "PROTOCOL_ID"},
	    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ca_files,
	     "also trust this CA certificate (PEM) for legacy TLS; may repeat", "FILE"},
	    {"deny-internal", 0, 0, G_OPTION_ARG_NONE, &deny_internal,
	     "refuse loopback, private and link-local addresses unless --allow-server lists "
	     "them",
	     NULL},
	    {"allow-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &allowed,
	     "a host name, address or CIDR the worker may connect to though it is internal "
	     "(implies --deny-internal); may repeat",
	     "ENTRY"},
	    {"login-timeout", 0, 0, G_OPTION_ARG_INT, &login_timeout,
	     "seconds from login to sign-on before giving up (default 60)", "SECONDS"},
	    {"debug", 0, 0, G_OPTION_ARG_NONE, &debug,
	     "libpurple debug output on stderr (shows protocol traffic)", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new("- ferry's libpurple worker");
	g_option_context_add_main_entries(context, entries, NULL);
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "ferry-worker: %s\n", error->message);
		return false;
	}
	if (argc > 1) {
		fprintf(stderr, "ferry-worker: unexpected argument '%s'\n", argv[1]);
		return false;
	}
	if (fd < 0 || login_timeout <= 0) {
		fprintf(stderr, "ferry-worker: --fd and --login-timeout must be positive\n");
		return false;
	}
	config->fd = fd;
	config->acks_fd = acks_fd;
	config->login_timeout = (guint)login_timeout;
	config->debug = debug;
	config->describe = describe;
	config->ca_files = ca_files;
	config->allowed_servers = allowed;
	config->deny_internal = deny_internal || allowed != NULL;
	return true;
}

static const struct channel_handler commands = {
    .command = commands_handle,
    .batch_done = accounts_send_acks,
};

/* The end of a batch of libpurple callbacks: a PONG there may have
 * confirmed messages (sendq.c), acknowledged with the batch. */
static void batch_end(void)
{
	accounts_send_acks();
	channel_uncork();
}

static int run(const struct worker_config *config)
{
	g_autoptr(GError) error = NULL;
	/* What one batch of libpurple callbacks causes goes out together. */
	loop_set_batch_hooks(channel_cork, batch_end);
	if (!channel_open(config->fd, &commands, &error) ||
	    (config->acks_fd >= 0 && !channel_open_acks(config->acks_fd, &error))) {
		g_critical("%s", error->message);
		return 1;
	}
	if (!core_init(config, &error)) {
		g_critical("%s", error->message);
		channel_close(0);
		return 1;
	}
	accounts_init(config->login_timeout);
	loop = g_main_loop_new(NULL, FALSE);
	guint sigterm = g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
	guint sigint = g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));

	channel_send(WORKER_FRAME(ready, .account = 0, .version = WORKER_PROTOCOL_VERSION,
	                          .libpurple = purple_core_get_version()));
	g_main_loop_run(loop);

	/* Out of the loop: log everyone out while the socket may still take
	 * the goodbyes, then let libpurple close what is left. */
	accounts_shutdown(true);
	channel_close(1000);
	core_quit();
	g_source_remove(sigterm);
	g_source_remove(sigint);
	g_clear_pointer(&loop, g_main_loop_unref);
	return 0;
}

#ifdef __SANITIZE_ADDRESS__
/* In sanitizer builds: libpurple leaks at exit (prefs callbacks, plugin
 * data), which is not ours to fix and would fail every run; the worker's
 * memory errors are still caught, and ferry's own leaks still checked.
 * ASAN_OPTIONS=detect_leaks=1 in the environment overrides this. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

int main(int argc, char **argv)
{
	struct worker_config config = {0};
	if (!parse_args(argc, argv, &config))
		return 2;
	/* ferry's own format and level: the level ferry runs at comes in
	 * FERRY_LOG_LEVEL (ferry sets it for its children); --debug (a
	 * developer's run by hand) shows everything. */
	enum settings_log_level level = SETTINGS_LOG_INFO;
	const char *env_level = g_getenv("FERRY_LOG_LEVEL");
	if (env_level != NULL && !log_level_parse(env_level, &level))
		level = SETTINGS_LOG_INFO;
	log_init("ferry-worker", config.debug ? SETTINGS_LOG_DEBUG : level);
	/* Writes to a closed socket (ferry, a legacy server) must fail with
	 * EPIPE, not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	/* Before libpurple reads anything, the --describe run included. */
	g_autoptr(GError) sandbox_error = NULL;
	if (!sandbox_apply(&config, &sandbox_error)) {
		g_critical("%s", sandbox_error->message);
		g_strfreev(config.ca_files);
		g_free(config.describe);
		return 1;
	}

	if (config.deny_internal && !dns_set_policy(config.allowed_servers, &sandbox_error)) {
		fprintf(stderr, "ferry-worker: %s\n", sandbox_error->message);
		g_strfreev(config.ca_files);
		g_strfreev(config.allowed_servers);
		g_free(config.describe);
		return 2;
	}

	int status;
	if (config.describe != NULL) {
		g_autoptr(GError) error = NULL;
		if (!core_init(&config, &error)) {
			fprintf(stderr, "ferry-worker: %s\n", error->message);
			status = 1;
		} else {
			status = describe_protocol(config.describe);
			core_quit();
		}
	} else {
		status = run(&config);
	}
	g_strfreev(config.ca_files);
	g_strfreev(config.allowed_servers);
	g_free(config.describe);
	return status;
}
