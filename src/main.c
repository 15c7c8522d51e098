/* main: ferry's entry point. Parses the command line, loads the settings,
 * opens what the transport stands on (the key, the database, the legacy
 * side and its registration form) and wires the modules together; the only
 * place that sees all of them. */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

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
#include "ferry/workers.h"

struct app {
	struct settings *settings;
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
    .batch_begin = on_batch_begin,
    .batch_end = on_batch_end,
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

/* The key, the database, the protocol's registration form (asked of the
 * worker program) and the legacy side. */
static bool app_open(struct app *app, GError **error)
{
	const struct settings *st = app->settings;
	if (!ensure_parent(st->key_file, error) || !ensure_parent(st->database, error))
		return false;
	app->secrets = secrets_open(st->key_file, error);
	if (app->secrets == NULL)
		return false;
	app->storage = storage_open_sqlite(st->database, app->secrets, error);
	if (app->storage == NULL)
		return false;
	g_autofree char *program =
	    st->worker_program != NULL ? g_strdup(st->worker_program) : workers_default_program();
	struct worker_description *describe = workers_describe(program, st->legacy_protocol, error);
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
	basic_handlers_register(app->router, app->disco);
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
	    .ping_interval = st->ping_interval,
	    .ping_to = st->allowed_domains[0],
	};
	app->component = component_new(&opt, &component_callbacks, app);
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
	g_clear_pointer(&app->loop, g_main_loop_unref);
	g_clear_pointer(&app->settings, settings_free);
}

int main(int argc, char **argv)
{
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
	if (version) {
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}
	if (check != NULL) {
		struct settings *st = settings_load(check, &err);
		if (st == NULL) {
			fprintf(stderr, "ferry: %s\n", err->message);
			return 1;
		}
		printf("%s: OK (component %s at %s:%u, protocol %s)\n", check, st->component_jid,
		       st->component_host, st->component_port, st->legacy_protocol);
		settings_free(st);
		return 0;
	}
	if (config == NULL) {
		fprintf(stderr, "ferry: no configuration given; use --config PATH (see --help)\n");
		return 2;
	}

	struct app app = {0};
	app.settings = settings_load(config, &err);
	if (app.settings == NULL) {
		fprintf(stderr, "ferry: %s\n", err->message);
		return 1;
	}
	log_init(app.settings->log_level);
	signal(SIGPIPE, SIG_IGN);
	app.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_quit_signal, &app);
	g_unix_signal_add(SIGINT, on_quit_signal, &app);

	g_message("ferry %s starting: component %s, server %s:%u%s, protocol %s", PACKAGE_VERSION,
	          app.settings->component_jid, app.settings->component_host,
	          app.settings->component_port, app.settings->component_tls ? " (TLS)" : "",
	          app.settings->legacy_protocol);
	if (!app_wire(&app, &err)) {
		g_warning("ferry: cannot start: %s", err->message);
		app_clear(&app);
		return 1;
	}
	component_start(app.component);
	g_main_loop_run(app.loop);
	app_clear(&app);
	return 0;
}
