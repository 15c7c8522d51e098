/* cmds_admin: the commands of the transport's admins ([access] admins) --
 * stats, and the XEP-0133 nodes get-online-users-list, announce,
 * end-user-session and delete-user -- and the alerts admins get (an
 * account quarantined, workers dying in a loop). Front-end neutral:
 * cmd.h. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define ADMIN_NODE(name) NS_ADMIN "#" name

/* ---- helpers ---------------------------------------------------------------------------- */

/* A new form of TYPE with the XEP-0133 FORM_TYPE and TITLE. */
static struct dataform *admin_form(enum dataform_type type, const char *title)
{
	struct dataform *form = dataform_new(type);
	dataform_set_form_type(form, NS_ADMIN);
	dataform_set_title(form, title);
	return form;
}

static void add_text(struct dataform *form, const char *var, const char *label, const char *text)
{
	dataform_field_add_value(dataform_add_field(form, DATAFORM_TEXT_SINGLE, var, label), text);
}

static void add_count(struct dataform *form, const char *var, const char *label, guint64 n)
{
	g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, n);
	add_text(form, var, label, text);
}

/* How long this process runs, in seconds, from /proc (no global clock). */
static guint64 process_uptime(void)
{
	g_autofree char *stat = NULL, *up = NULL;
	if (!g_file_get_contents("/proc/self/stat", &stat, NULL, NULL) ||
	    !g_file_get_contents("/proc/uptime", &up, NULL, NULL))
		return 0;
	/* field 22, starttime in clock ticks since boot, counted after the
	 * command name's closing parenthesis (field 2) */
	const char *p = strrchr(stat, ')');
	g_auto(GStrv) fields = p != NULL ? g_strsplit(p + 2, " ", 0) : NULL;
	long ticks = sysconf(_SC_CLK_TCK);
	if (fields == NULL || g_strv_length(fields) < 20 || ticks <= 0)
		return 0;
	double start = g_ascii_strtod(fields[19], NULL) / (double)ticks;
	double now = g_ascii_strtod(up, NULL);
	return now > start ? (guint64)(now - start) : 0;
}

static char *duration_text(guint64 s)
{
	return g_strdup_printf("%" G_GUINT64_FORMAT "d %02" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT
	                       ":%02" G_GUINT64_FORMAT,
	                       s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
}

/* The registered users' bare JIDs (never NULL; logged on error). */
static GPtrArray *registered(const struct gateway_ctx *ctx)
{
	g_autoptr(GError) err = NULL;
	GPtrArray *users = storage_user_list(ctx->storage, &err);
	if (users == NULL) {
		g_warning("cmds: cannot list registered users: %s", err->message);
		users = g_ptr_array_new_with_free_func(g_free);
	}
	return users;
}

/* The values of jid-multi VAR of VALUES joined by ", " (caller frees). */
static char *join_values(const GPtrArray *values)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < values->len; i++)
		g_string_append_printf(s, "%s%s", i > 0 ? ", " : "",
		                       (const char *)g_ptr_array_index(values, i));
	return g_string_free(s, FALSE);
}

static const GPtrArray *jids_of(const struct dataform *values)
{
	const struct dataform_field *f = dataform_find_field(values, "accountjids");
	return f != NULL ? dataform_field_values(f) : NULL;
}

/* ---- stats --------------------------------------------------------------------------- */

static void stats_start(struct cmd_run *run)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct dataform *r = admin_form(DATAFORM_RESULT, "Transport statistics");
	g_autofree char *uptime = duration_text(process_uptime());
	add_text(r, "uptime", "Uptime", uptime);

	g_autoptr(GPtrArray) users = registered(ctx);
	gint64 outbox = 0;
	for (guint i = 0; i < users->len; i++) {
		gint64 n = storage_outbox_count(ctx->storage, g_ptr_array_index(users, i), NULL);
		outbox += n > 0 ? n : 0;
	}
	guint counts[SESSION_FAILED + 1] = {0};
	g_autoptr(GPtrArray) sessions = sessions_list(ctx->sessions);
	for (guint i = 0; i < sessions->len; i++)
		counts[session_state(g_ptr_array_index(sessions, i))]++;
	add_count(r, "users_registered", "Users registered", users->len);
	add_count(r, "users_online", "Users online (signed on to the legacy network)",
	          counts[SESSION_ONLINE]);
	add_count(r, "users_connecting", "Users connecting",
	          counts[SESSION_CONNECTING] + counts[SESSION_RECONNECTING]);
	add_count(r, "users_failed", "Users whose login failed", counts[SESSION_FAILED]);
	add_count(r, "outbox", "Messages queued in the outbox", (guint64)outbox);
	add_count(r, "login_failures", "Legacy login failures since the start",
	          sessions_login_failures(ctx->sessions));

	guint deaths = 0;
	g_autoptr(GArray) procs = legacy_stats(ctx->legacy, &deaths);
	add_count(r, "workers", "Worker processes", procs->len);
	add_count(r, "worker_crashes", "Worker crashes since the start", deaths);
	dataform_add_column(r, DATAFORM_TEXT_SINGLE, "pid", "Worker pid");
	dataform_add_column(r, DATAFORM_TEXT_SINGLE, "accounts", "Accounts");
	dataform_add_column(r, DATAFORM_TEXT_SINGLE, "rss", "Memory (RSS, KiB)");
	for (guint i = 0; i < procs->len; i++) {
		const struct legacy_process *p = &g_array_index(procs, struct legacy_process, i);
		guint row = dataform_add_row(r);
		g_autofree char *pid = g_strdup_printf("%d", p->pid);
		g_autofree char *accounts = g_strdup_printf("%u", p->accounts);
		g_autofree char *rss = g_strdup_printf("%" G_GUINT64_FORMAT, p->rss_kb);
		dataform_add_cell(r, row, "pid", pid);
		dataform_add_cell(r, row, "accounts", accounts);
		dataform_add_cell(r, row, "rss", rss);
	}
	cmd_run_done(run, NULL, r);
}

static const struct cmd_def stats_def = {
    .node = "stats",
    .name = "Statistics",
    .word = "stats",
    .help = "uptime, users, worker processes, queued messages, failed logins",
    .who = CMD_WHO_ADMIN,
    .start = stats_start,
};

/* ---- get-online-users-list ---------------------------------------------------------------- */

static void online_start(struct cmd_run *run)
{
	struct dataform *f = admin_form(DATAFORM_FORM, "Get the list of online users");
	struct dataform_field *max = dataform_add_field(f, DATAFORM_LIST_SINGLE, "max_items",
	                                                "Maximum number of items to show");
	static const char *const sizes[] = {"25", "50", "75", "100", "150", "200"};
	for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++)
		dataform_field_add_option(max, sizes[i], sizes[i]);
	dataform_field_add_option(max, "None", "none");
	dataform_field_add_value(max, "none");
	cmd_run_form(run, f, true);
}

static void online_submit(struct cmd_run *run, const struct dataform *values)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	const char *max_text = dataform_get_value(values, "max_items");
	guint64 max = G_MAXUINT;
	if (max_text != NULL && strcmp(max_text, "none") != 0)
		(void)g_ascii_string_to_unsigned(max_text, 10, 1, G_MAXUINT, &max, NULL);
	struct dataform *r = admin_form(DATAFORM_RESULT, "Online users");
	/* Prosody's var; "online" is ferry's: signed on to the legacy network */
	struct dataform_field *list = dataform_add_field(
	    r, DATAFORM_JID_MULTI, "onlineuserjids",
	    "Users whose legacy session is up (signed on to the legacy network)");
	g_autoptr(GPtrArray) sessions = sessions_list(ctx->sessions);
	guint n = 0;
	for (guint i = 0; i < sessions->len && n < max; i++) {
		struct session *s = g_ptr_array_index(sessions, i);
		if (session_state(s) != SESSION_ONLINE)
			continue;
		dataform_field_add_value(list, session_jid(s));
		n++;
	}
	cmd_run_done(run, NULL, r);
}

static const struct cmd_def online_def = {
    .node = ADMIN_NODE("get-online-users-list"),
    .name = "Get List of Online Users",
    .word = "online",
    .help = "the users signed on to the legacy network now",
    .who = CMD_WHO_ADMIN,
    .start = online_start,
    .submit = online_submit,
};

/* ---- announce -------------------------------------------------------------------------- */

static void announce_start(struct cmd_run *run)
{
	struct dataform *f = admin_form(DATAFORM_FORM, "Make an announcement");
	dataform_add_instructions(f, "Sent as a message to every registered user, offline ones "
	                             "included (their server keeps it for them).");
	dataform_add_field(f, DATAFORM_TEXT_SINGLE, "subject", "Subject");
	struct dataform_field *text =
	    dataform_add_field(f, DATAFORM_TEXT_MULTI, "announcement", "Announcement");
	dataform_field_set_required(text, true);
	cmd_run_form(run, f, true);
}

static void announce_submit(struct cmd_run *run, const struct dataform *values)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	const struct dataform_field *f = dataform_find_field(values, "announcement");
	g_autoptr(GString) body = g_string_new(NULL);
	const GPtrArray *lines = dataform_field_values(f);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(body, "%s%s", i > 0 ? "\n" : "",
		                       (const char *)g_ptr_array_index(lines, i));
	const char *subject = dataform_get_value(values, "subject");
	g_autoptr(GPtrArray) users = registered(ctx);
	for (guint i = 0; i < users->len; i++) {
		/* normal, never headline: servers drop headlines to offline users */
		struct stanza *m = stanza_new("message");
		stanza_set_attr(m, "from", ctx->jid);
		stanza_set_attr(m, "to", g_ptr_array_index(users, i));
		stanza_set_attr(m, "type", "normal");
		if (subject != NULL)
			stanza_add_text_child(m, "subject", subject);
		stanza_add_text_child(m, "body", body->str);
		router_send(ctx->router, m);
	}
	g_info("cmds: %s sent an announcement to %u user(s)", cmd_run_user(run), users->len);
	g_autofree char *note =
	    g_strdup_printf("Sent to %u user%s", users->len, users->len == 1 ? "" : "s");
	cmd_run_done(run, note, NULL);
}

static const struct cmd_def announce_def = {
    .node = ADMIN_NODE("announce"),
    .name = "Send Announcement to All Users",
    .word = "announce",
    .help = "a message to every registered user",
    .who = CMD_WHO_ADMIN,
    .start = announce_start,
    .submit = announce_submit,
};

/* ---- end-user-session ------------------------------------------------------------------- */

static void accounts_form(struct cmd_run *run, const char *title, const char *label)
{
	struct dataform *f = admin_form(DATAFORM_FORM, title);
	struct dataform_field *jids =
	    dataform_add_field(f, DATAFORM_JID_MULTI, "accountjids", label);
	dataform_field_set_required(jids, true);
	cmd_run_form(run, f, true);
}

static void end_session_start(struct cmd_run *run)
{
	accounts_form(run, "End user sessions", "The Jabber ID(s) for which to end sessions");
}

static void end_session_submit(struct cmd_run *run, const struct dataform *values)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	const GPtrArray *jids = jids_of(values);
	g_autoptr(GPtrArray) ended = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; jids != NULL && i < jids->len; i++) {
		g_autofree char *bare = jid_bare_of(g_ptr_array_index(jids, i));
		struct session *s = sessions_get(ctx->sessions, bare, false);
		if (s == NULL || session_state(s) == SESSION_OFFLINE) {
			g_ptr_array_add(idle, g_steal_pointer(&bare));
			continue;
		}
		g_autofree char *tell =
		    g_strdup_printf("An administrator of %s ended your %s session.", ctx->jid,
		                    regform_protocol_name(ctx->form));
		out_tell_user(ctx->router, bare, tell);
		session_logout(s, "ended by an administrator");
		g_ptr_array_add(ended, g_steal_pointer(&bare));
	}
	g_autofree char *done = join_values(ended);
	g_autofree char *none = join_values(idle);
	GString *note = g_string_new(NULL);
	if (ended->len > 0)
		g_string_append_printf(note, "Ended the legacy session of %s", done);
	else
		g_string_append(note, "No session was ended");
	if (idle->len > 0)
		g_string_append_printf(note, "; no session to end for %s", none);
	g_info("cmds: %s ended %u session(s)", cmd_run_user(run), ended->len);
	cmd_run_done(run, note->str, NULL);
	g_string_free(note, TRUE);
}

static const struct cmd_def end_session_def = {
    .node = ADMIN_NODE("end-user-session"),
    .name = "End User Session",
    .word = "end-session",
    .help = "log users out of the legacy network",
    .who = CMD_WHO_ADMIN,
    .start = end_session_start,
    .submit = end_session_submit,
};

/* ---- delete-user -------------------------------------------------------------------------- */

/* The unregistrations under way; outlives its run (they answer later). */
struct deleting {
	struct cmd_run *run; /* NULL once the run ended first */
	GPtrArray *jids;     /* the registered users asked for (char *) */
	guint waiting;       /* unregistrations not answered yet */
	GString *deleted, *failed;
};

static void deleting_free(struct deleting *d)
{
	g_ptr_array_unref(d->jids);
	g_string_free(d->deleted, TRUE);
	g_string_free(d->failed, TRUE);
	g_free(d);
}

/* The run's state: the deleting, or NULL (its run pointer dropped when
 * the run ends). */
static void delete_state_free(gpointer data)
{
	struct deleting *d = data;
	d->run = NULL;
	if (d->waiting == 0)
		deleting_free(d);
}

static void delete_finish(struct deleting *d)
{
	if (d->waiting > 0 || d->run == NULL)
		return;
	g_autofree char *note = g_strdup_printf(
	    "%s%s%s%s", d->deleted->len > 0 ? "Deleted " : "No user was deleted", d->deleted->str,
	    d->failed->len > 0 ? "; could not delete " : "", d->failed->str);
	cmd_run_done(d->run, note, NULL);
}

/* One unregistration's answer: which user it was. */
struct deleting_one {
	struct deleting *d;
	char *jid;
};

static void on_unregistered(void *data, bool ok, const char *text)
{
	struct deleting_one *one = data;
	struct deleting *d = one->d;
	GString *to = ok ? d->deleted : d->failed;
	g_string_append_printf(to, "%s%s", to->len > 0 ? ", " : "", one->jid);
	if (!ok && text != NULL && *text != '\0')
		g_string_append_printf(to, " (%s)", text);
	g_free(one->jid);
	g_free(one);
	d->waiting--;
	if (d->run == NULL && d->waiting == 0) {
		deleting_free(d);
		return;
	}
	delete_finish(d);
}

static void delete_start(struct cmd_run *run)
{
	accounts_form(run, "Delete users", "The Jabber ID(s) to delete");
}

static void delete_submit(struct cmd_run *run, const struct dataform *values)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct deleting *d = cmd_run_state(run);
	if (d == NULL) {
		/* stage 1: who; then the confirmation */
		d = g_new0(struct deleting, 1);
		d->run = run;
		d->jids = g_ptr_array_new_with_free_func(g_free);
		d->deleted = g_string_new(NULL);
		d->failed = g_string_new(NULL);
		cmd_run_set_state(run, d, delete_state_free);
		const GPtrArray *jids = jids_of(values);
		for (guint i = 0; jids != NULL && i < jids->len; i++) {
			char *bare = jid_bare_of(g_ptr_array_index(jids, i));
			if (cmds_is_registered(cmd_run_cmds(run), bare))
				g_ptr_array_add(d->jids, bare);
			else
				g_free(bare);
		}
		if (d->jids->len == 0) {
			cmd_run_done(run, "None of them is registered: no user was deleted", NULL);
			return;
		}
		g_autofree char *list = join_values(d->jids);
		struct dataform *f = admin_form(DATAFORM_FORM, "Delete users");
		g_autofree char *what = g_strdup_printf(
		    "Delete the registration of %s? Their legacy sessions end and their stored "
		    "settings, password and contacts are wiped.",
		    list);
		dataform_add_instructions(f, what);
		struct dataform_field *c =
		    dataform_add_field(f, DATAFORM_BOOLEAN, "confirm", "Yes, delete them");
		dataform_field_set_required(c, true);
		dataform_field_add_value(c, "false");
		cmd_run_form(run, f, true);
		return;
	}
	if (g_strcmp0(dataform_get_value(values, "confirm"), "true") != 0) {
		cmd_run_done(run, "No user was deleted", NULL);
		return;
	}
	g_info("cmds: %s deletes %u user(s)", cmd_run_user(run), d->jids->len);
	/* counted first: an answer may come inside the call */
	d->waiting = d->jids->len + 1;
	for (guint i = 0; i < d->jids->len; i++) {
		struct deleting_one *one = g_new0(struct deleting_one, 1);
		one->d = d;
		one->jid = g_strdup(g_ptr_array_index(d->jids, i));
		registration_unregister(ctx->registration, one->jid, on_unregistered, one);
	}
	d->waiting--;
	delete_finish(d);
}

static const struct cmd_def delete_def = {
    .node = ADMIN_NODE("delete-user"),
    .name = "Delete User",
    .word = "delete-user",
    .help = "unregister users (asks to confirm)",
    .who = CMD_WHO_ADMIN,
    .start = delete_start,
    .submit = delete_submit,
};

/* ---- alerts -------------------------------------------------------------------------------- */

void cmds_admin_alert(const struct gateway_ctx *ctx, const char *text)
{
	g_autofree char *body = g_strdup_printf("[%s admin] %s", ctx->jid, text);
	for (char **a = ctx->settings->admins; a != NULL && *a != NULL; a++)
		out_tell_user(ctx->router, *a, body);
}

void cmds_admin_crash_loop(const struct gateway_ctx *ctx, guint deaths, guint seconds)
{
	g_autofree char *text = g_strdup_printf(
	    "%u worker processes died within %u minutes: a crash loop (see ferry's log)", deaths,
	    seconds / 60);
	cmds_admin_alert(ctx, text);
}

void cmds_add_admin(struct cmds *cmds)
{
	cmds_add(cmds, &stats_def);
	cmds_add(cmds, &online_def);
	cmds_add(cmds, &announce_def);
	cmds_add(cmds, &end_session_def);
	cmds_add(cmds, &delete_def);
}
