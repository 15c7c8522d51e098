/* main: ferry's entry point. Parses the command line, loads the settings,
 * opens what the transport stands on (the key, the database, the legacy
 * side and its registration form) and wires the modules together; the only
 * place that sees all of them. */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "ferry/basic.h"
#include "ferry/component.h"
#include "ferry/disco.h"
#include "ferry/gateway.h"
#include "ferry/legacy.h"
#include "ferry/log.h"
#include "ferry/ns.h"
#include "ferry/regform.h"
#include "ferry/router.h"
#include "ferry/secrets.h"
#include "ferry/settings.h"
#include "ferry/storage.h"
#include "ferry/worker_user.h"
#include "ferry/workers.h"

struct app {
	struct settings *settings;
	struct storage_lock *lock;
	struct secrets *secrets;
	struct storage *storage;
	struct regform *form;
	struct legacy *legacy;
	struct router *router;
	struct disco *disco;
	struct component *component;
	struct gateway *gateway;
	GMainLoop *loop;
};

static void send_to_component(void *data, struct stanza *stanza)
{
	struct app *app = data;
	(void)component_send(app->component, stanza);
}

static void on_stanza(void *data, struct stanza *stanza)
{
	struct app *app = data;
	router_dispatch(app->router, stanza);
}

static void on_skipped(void *data, const struct stanza *head, const char *problem)
{
	struct app *app = data;
	router_dispatch_skipped(app->router, head, problem);
}

/* Backpressure (legacy.h): a congested queue stops the legacy side's
 * reading, the whole link's for every account, a key's for its account. */
static void on_congestion(void *data, guint32 key, bool congested)
{
	struct app *app = data;
	if (app->legacy == NULL) /* NULL while stopping */
		return;
	/* the link's congestion is reported again when its reason changes
	 * (outq.c): what a stall is told as */
	if (key == 0)
		legacy_set_link_down(app->legacy, app->component == NULL ||
		                                      !component_is_online(app->component));
	legacy_set_congested(app->legacy, key, congested);
}

/* What a legacy event makes the gateway send counts for its account. */
static void on_event_scope(void *data, guint32 account)
{
	struct app *app = data;
	if (app->component != NULL)
		(void)component_set_key(app->component, account);
}

static void on_online(void *data)
{
	struct app *app = data;
	gateway_link_up(app->gateway);
}

/* What the transport sends to the legacy side while the component link
 * delivers the stanzas of one read waits, and then goes out with one
 * system call per worker (one wake-up each, not one per stanza). */
static void on_batch_begin(void *data)
{
	struct app *app = data;
	legacy_hold(app->legacy, true);
}

static void on_batch_end(void *data)
{
	struct app *app = data;
	legacy_hold(app->legacy, false);
}

static const struct component_callbacks component_callbacks = {
    .online = on_online,
    .stanza = on_stanza,
    .skipped = on_skipped,
    .batch_begin = on_batch_begin,
    .batch_end = on_batch_end,
    .congestion = on_congestion,
};

static gboolean on_quit_signal(gpointer data)
{
	struct app *app = data;
	g_message("ferry: shutting down");
	g_main_loop_quit(app->loop);
	return G_SOURCE_CONTINUE;
}

/* Creates the directory holding PATH (mode 0700) when missing. */
static bool ensure_parent(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            "cannot create %s: %s", dir, g_strerror(errno));
		return false;
	}
	return true;
}

/* Whether the database file exists with something in it: only a new
 * database may get a new key. (An empty file is what a start that died
 * before creating the schema leaves.) */
static bool database_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0;
}

/* The key for DATABASE: made only with a new database; a missing key over
 * an existing one is refused with what to do. */
static struct secrets *open_key(const struct settings *st, GError **error)
{
	bool is_new = !database_exists(st->database);
	g_autoptr(GError) local = NULL;
	struct secrets *secrets = secrets_open(st->key_file, is_new, &local);
	if (secrets != NULL)
		return secrets;
	if (g_error_matches(local, SECRETS_ERROR, SECRETS_ERROR_KEY_MISSING)) {
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_MISSING,
		            "%s: the key file is missing, and the database %s exists: its "
		            "passwords can only be opened with the key it was made with, so no "
		            "new key is made. Restore the key file (from your backup, mode 0600); "
		            "or, to start over with a new database and a new key (every user "
		            "registers again), move the database away with its -wal and -shm "
		            "files (mv %s %s.old)",
		            st->key_file, st->database, st->database, st->database);
		return NULL;
	}
	g_propagate_error(error, g_steal_pointer(&local));
	return NULL;
}

/* The worker program: [workers] program, else the default one. */
static char *worker_program(const struct settings *st)
{
	return st->worker_program != NULL ? g_strdup(st->worker_program)
	                                  : workers_default_program();
}

/* The key, the database, the protocol's registration form (asked of the
 * worker program) and the legacy side. The database's lock comes first:
 * a second ferry must not even make a key. */
static bool app_open(struct app *app, GError **error)
{
	const struct settings *st = app->settings;
	/* Who the workers run as: decided before anything is opened. */
	struct worker_user wuser;
	if (!worker_user_resolve(st->worker_user, &wuser, error))
		return false;
	g_message("workers: run as %s (uid %u)%s", wuser.name, (unsigned)wuser.uid,
	          wuser.switch_user ? "" : ", ferry's own user: confined by Landlock");
	if (!ensure_parent(st->key_file, error) || !ensure_parent(st->database, error))
		return false;
	app->lock = storage_lock(st->database, error);
	if (app->lock == NULL)
		return false;
	app->secrets = open_key(st, error);
	if (app->secrets == NULL)
		return false;
	app->storage = storage_open_sqlite(st->database, app->secrets, error);
	if (app->storage == NULL)
		return false;
	g_autofree char *program = worker_program(st);
	struct worker_description *describe =
	    workers_describe(program, st->legacy_protocol, &wuser, error);
	if (describe == NULL)
		return false;
	app->form = regform_new(describe, st->legacy_overrides, st->legacy_locked, error);
	worker_description_free(describe);
	if (app->form == NULL)
		return false;
	const struct workers_options wopt = {
	    .program = program,
	    .users_per_worker = st->users_per_worker,
	    .min_workers = st->min_workers,
	    .ca_file = st->legacy_ca_file,
	    .switch_user = wuser.switch_user,
	    .uid = wuser.uid,
	    .gid = wuser.gid,
	    .allowed_servers = regform_allowed_servers(app->form),
	};
	app->legacy = legacy_new_workers(&wopt);
	g_message("gateway: %s (%s) through %s, database %s", regform_protocol_name(app->form),
	          regform_protocol(app->form), program, st->database);
	return true;
}

static bool app_wire(struct app *app, GError **error)
{
	const struct settings *st = app->settings;
	if (!app_open(app, error))
		return false;
	app->router = router_new(st->component_jid, send_to_component, app);
	app->disco = disco_new(app->router);
	disco_add_identity(app->disco, "gateway", settings_gateway_type(st), st->legacy_name);
	disco_add_feature(app->disco, NS_JID_ESCAPING);
	basic_handlers_register(app->router, app->disco, st->legacy_name);
	const struct gateway_ports ports = {
	    .settings = st,
	    .router = app->router,
	    .disco = app->disco,
	    .storage = app->storage,
	    .legacy = app->legacy,
	    .form = app->form,
	};
	app->gateway = gateway_new(&ports);

	struct component_options opt = {
	    .jid = st->component_jid,
	    .host = st->component_host,
	    .port = st->component_port,
	    .secret = st->component_secret,
	    .tls = st->component_tls,
	    .tls_ca_file = st->tls_ca_file,
	    .tls_server_name = st->tls_server_name,
	    .max_stanza_bytes = st->max_stanza_bytes,
	    .max_token_bytes = st->max_token_bytes,
	    .max_outbound_bytes = st->max_outbound_bytes,
	    .ping_interval = st->ping_interval,
	    .ping_to = st->allowed_domains[0],
	    .max_queue_bytes = st->queue_high_bytes,
	    .queue_low_bytes = st->queue_low_bytes,
	    .key_high_bytes = st->account_queue_bytes,
	};
	app->component = component_new(&opt, &component_callbacks, app);
	legacy_set_event_scope(app->legacy, on_event_scope, app);
	legacy_set_stall_limit(app->legacy, st->stall_seconds);
	return true;
}

static void app_clear(struct app *app)
{
	/* The gateway first (sessions log out through the legacy side), then
	 * the legacy side (workers stop), then the router, whose cancelled
	 * requests may still send through the link. */
	g_clear_pointer(&app->gateway, gateway_free);
	g_clear_pointer(&app->legacy, legacy_free);
	g_clear_pointer(&app->router, router_free);
	g_clear_pointer(&app->disco, disco_free);
	g_clear_pointer(&app->component, component_free);
	g_clear_pointer(&app->form, regform_free);
	g_clear_pointer(&app->storage, storage_free);
	g_clear_pointer(&app->secrets, secrets_free);
	g_clear_pointer(&app->lock, storage_lock_free);
	g_clear_pointer(&app->loop, g_main_loop_unref);
	g_clear_pointer(&app->settings, settings_free);
}

/* ---- checks of the configuration -----------------------------------------
 * --check-config runs them all and reports every problem; a start runs the
 * cheap ones before anything else (the rest it meets as it opens things). */

/* The example file's placeholder: a secret everybody knows. */
#define PLACEHOLDER_SECRET "change-me"

static void add_problem(GPtrArray *problems, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void add_problem(GPtrArray *problems, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_ptr_array_add(problems, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

static void check_secret(const struct settings *st, GPtrArray *problems)
{
	if (strcmp(st->component_secret, PLACEHOLDER_SECRET) == 0)
		add_problem(problems,
		            "%s: [component] secret: '%s' is the example file's placeholder, which "
		            "anyone may know: set the secret the XMPP server has for %s (Prosody "
		            "component_secret, ejabberd password)",
		            st->path, PLACEHOLDER_SECRET, st->component_jid);
}

/* The config file holds the component secret: others must not read it. */
static bool config_mode_problem(const struct settings *st, GPtrArray *problems)
{
	struct stat sb;
	if (stat(st->path, &sb) != 0 || (sb.st_mode & S_IROTH) == 0)
		return false;
	add_problem(problems,
	            "%s: the file holds [component] secret and anyone on this machine may read "
	            "it (mode %04o); run: chmod 600 %s (or chmod 640 and a group for ferry)",
	            st->path, (unsigned)(sb.st_mode & 07777), st->path);
	return true;
}

/* The key file as a start would meet it, read only: too open, wrong size,
 * or missing over an existing database. */
static void check_key_file(const struct settings *st, GPtrArray *problems)
{
	if (!g_file_test(st->key_file, G_FILE_TEST_EXISTS) && !database_exists(st->database))
		return; /* made at the first start, with the database */
	g_autoptr(GError) err = NULL;
	struct secrets *secrets = open_key(st, &err);
	if (secrets == NULL)
		add_problem(problems, "%s: [storage] key_file: %s", st->path, err->message);
	else if (database_exists(st->database) &&
	         !storage_check_key_sqlite(st->database, secrets, &err) &&
	         !g_error_matches(err, STORAGE_ERROR, STORAGE_ERROR_VERSION))
		/* (a schema to migrate: the start checks the key after it) */
		add_problem(problems, "%s: [storage] key_file: %s", st->path, err->message);
	secrets_free(secrets);
}

/* The worker program, the protocol and the [legacy] presets, against what
 * `ferry-worker --describe` reports, with the check the gateway runs. */
static void check_legacy(const struct settings *st, GPtrArray *problems)
{
	g_autofree char *program = worker_program(st);
	if (!g_file_test(program, G_FILE_TEST_IS_REGULAR) ||
	    !g_file_test(program, G_FILE_TEST_IS_EXECUTABLE)) {
		if (st->worker_program != NULL)
			add_problem(
			    problems,
			    "%s: [workers] program: '%s' is not an executable file: give the "
			    "path of ferry-worker (installed under %s)",
			    st->path, program, FERRY_LIBEXECDIR);
		else
			add_problem(
			    problems,
			    "%s: the worker program %s is not installed: install ferry-worker "
			    "there, or set [workers] program",
			    st->path, program);
		return;
	}
	g_autoptr(GError) err = NULL;
	/* The description is asked as the workers run: as their user. */
	struct worker_user wuser;
	bool have_user = worker_user_resolve(st->worker_user, &wuser, &err);
	if (!have_user) {
		add_problem(problems, "%s: %s", st->path, err->message);
		g_clear_error(&err);
	}
	struct worker_description *describe =
	    workers_describe(program, st->legacy_protocol, have_user ? &wuser : NULL, &err);
	if (describe == NULL) {
		/* The worker's list of protocols, on one line. */
		g_auto(GStrv) lines = g_strsplit(err->message, "\n", -1);
		for (gsize i = 0; lines[i] != NULL; i++)
			g_strstrip(lines[i]);
		g_autofree char *text = g_strjoinv(" ", lines);
		add_problem(problems, "%s: [legacy] protocol: '%s': %s", st->path,
		            st->legacy_protocol, text);
		return;
	}
	if (!regform_check_presets(st, describe, &err)) {
		add_problem(problems, "%s: %s", st->path, err->message);
	} else {
		/* Users may type any server: the admin must say which. */
		struct regform *form =
		    regform_new(describe, st->legacy_overrides, st->legacy_locked, NULL);
		if (form != NULL && regform_server_open(form))
			add_problem(
			    problems,
			    "%s: [legacy]: users choose their server in the registration form, "
			    "and ferry.allowed_servers does not say which they may: list them "
			    "(host names, addresses, CIDRs; * for any public server), or lock "
			    "the server (locked = server)",
			    st->path);
		regform_free(form);
	}
	worker_description_free(describe);
}

/* --check-config PATH: every problem on stderr, one a line; 0 when none. */
static int check_config(const char *path)
{
	g_autoptr(GError) err = NULL;
	struct settings *st = settings_load(path, &err);
	if (st == NULL) {
		fprintf(stderr, "ferry: %s\n", err->message);
		return 1;
	}
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	check_secret(st, problems);
	config_mode_problem(st, problems);
	check_key_file(st, problems);
	check_legacy(st, problems);
	for (guint i = 0; i < problems->len; i++)
		fprintf(stderr, "ferry: %s\n", (char *)problems->pdata[i]);
	int status = 0;
	if (problems->len > 0) {
		fprintf(stderr, "%s: %u problem%s\n", path, problems->len,
		        problems->len == 1 ? "" : "s");
		status = 1;
	} else {
		printf("%s: OK (component %s at %s:%u, protocol %s)\n", path, st->component_jid,
		       st->component_host, st->component_port, st->legacy_protocol);
	}
	settings_free(st);
	return status;
}

/* The checks a start makes before opening anything: a placeholder secret
 * stops it; a config file others may read is worth a warning. */
static bool start_checks(const struct settings *st, GError **error)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	if (config_mode_problem(st, problems))
		g_warning("%s", (char *)problems->pdata[0]);
	g_ptr_array_set_size(problems, 0);
	check_secret(st, problems);
	if (problems->len > 0) {
		g_set_error_literal(error, SETTINGS_ERROR, SETTINGS_ERROR_INVALID,
		                    problems->pdata[0]);
		return false;
	}
	return true;
}

/* ferry holds the key, the component secret and passwords: no core file,
 * and no ptrace or /proc/<pid>/mem by processes of the same user (the
 * workers, when ferry runs as a system user). */
static void no_core_dumps(void)
{
	const struct rlimit none = {0, 0};
	if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		g_message("ferry: cannot turn core dumps off: %s", g_strerror(errno));
}

int main(int argc, char **argv)
{
	/* Every line ferry writes, from the first, in the one format. */
	log_init("ferry", SETTINGS_LOG_INFO);
	no_core_dumps();
	g_autofree char *config = NULL;
	g_autofree char *check = NULL;
	gboolean version = FALSE;
	const GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
	     "Run in the foreground with this configuration file", "PATH"},
	    {"check-config", 0, 0, G_OPTION_ARG_FILENAME, &check,
	     "Validate a configuration file and exit", "PATH"},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
	g_option_context_set_summary(ctx, "ferry: an XMPP transport to legacy IM networks.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_autoptr(GError) err = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "ferry: %s\n", err->message);
		return 2;
	}
	if (argc > 1) {
		fprintf(stderr, "ferry: unexpected argument '%s' (see --help)\n", argv[1]);
		return 2;
	}
	if (version) {
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}
	if (check != NULL)
		return check_config(check);
	if (config == NULL) {
		fprintf(stderr, "ferry: no configuration given; use --config PATH (see --help)\n");
		return 2;
	}

	struct app app = {0};
	app.settings = settings_load(config, &err);
	if (app.settings == NULL) {
		log_error("ferry: cannot start: %s", err->message);
		return 1;
	}
	log_set_level(app.settings->log_level);
	/* The workers log at the same level (they inherit the environment). */
	g_setenv("FERRY_LOG_LEVEL", log_level_name(app.settings->log_level), TRUE);
	signal(SIGPIPE, SIG_IGN);
	app.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_quit_signal, &app);
	g_unix_signal_add(SIGINT, on_quit_signal, &app);

	g_message("ferry %s starting: component %s, server %s:%u%s, protocol %s", PACKAGE_VERSION,
	          app.settings->component_jid, app.settings->component_host,
	          app.settings->component_port, app.settings->component_tls ? " (TLS)" : "",
	          app.settings->legacy_protocol);
	if (!start_checks(app.settings, &err) || !app_wire(&app, &err)) {
		log_error("ferry: cannot start: %s", err->message);
		app_clear(&app);
		return 1;
	}
	component_start(app.component);
	g_main_loop_run(app.loop);
	app_clear(&app);
	return 0;
}
