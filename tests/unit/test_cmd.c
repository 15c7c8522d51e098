/* Unit tests for the command registry and runs (src/gateway/cmd.c): who
 * may run what, stages checked against their form, the idle expiry, the
 * per-user limit, cancel, ids never reused, and the deferred free. */
#include "config.h"

#include <string.h>

#include "gateway_fixture.h"
#include "../../src/gateway/cmd.h"

#define ADMIN "Root@Example.ORG"
#define ADMIN_PC "root@example.org/laptop"
#define BOB_PC "bob@example.org/pc"

/* ---- a test command: stage 1 asks `name` (required), stage 2 a boolean ----- */

static guint cancels;
static enum cmd_end cancel_why;

static void two_start(struct cmd_run *run)
{
	struct dataform *f = dataform_new(DATAFORM_FORM);
	struct dataform_field *name = dataform_add_field(f, DATAFORM_TEXT_SINGLE, "name", "Name");
	dataform_field_set_required(name, true);
	cmd_run_form(run, f, false);
}

static void two_submit(struct cmd_run *run, const struct dataform *values)
{
	const char *name = dataform_get_value(values, "name");
	if (name != NULL && strcmp(name, "nobody") == 0) {
		cmd_run_refuse(run, "not nobody");
		return;
	}
	if (name != NULL) {
		cmd_run_set_state(run, g_strdup(name), g_free);
		struct dataform *f = dataform_new(DATAFORM_FORM);
		dataform_add_field(f, DATAFORM_BOOLEAN, "sure", "Sure?");
		cmd_run_attach(run, stanza_new("data"));
		cmd_run_form(run, f, true);
		return;
	}
	g_autofree char *note = g_strdup_printf("hello %s", (char *)cmd_run_state(run));
	cmd_run_done(run, note, NULL);
}

static void two_cancel(struct cmd_run *run, enum cmd_end why)
{
	(void)run;
	cancels++;
	cancel_why = why;
}

static const struct cmd_def two = {
    .node = "test-two",
    .name = "Two stages",
    .word = "two",
    .help = "asks two things",
    .who = CMD_WHO_ANYONE,
    .start = two_start,
    .submit = two_submit,
    .cancel = two_cancel,
};
static const struct cmd_def user_only = {
    .node = "test-user",
    .name = "User",
    .who = CMD_WHO_REGISTERED,
    .start = two_start,
    .submit = two_submit,
};
static const struct cmd_def admin_only = {
    .node = "test-admin",
    .name = "Admin",
    .word = "stats",
    .who = CMD_WHO_ADMIN,
    .start = two_start,
    .submit = two_submit,
};
static const struct cmd_def prompt_stub = {
    .node = "prompt",
    .name = "Prompt",
    .who = CMD_WHO_REGISTERED,
    .start = two_start,
    .submit = two_submit,
};

/* Until cmds_info.c (C2) links, a weak stand-in; the real one wins. */
__attribute__((weak)) const struct cmd_def *cmds_prompt_def(void)
{
	return &prompt_stub;
}

/* ---- a sink that records --------------------------------------------------------------- */

struct rec {
	guint stages;
	bool last;
	guint attachments;
	char *refused;
	guint ended;
	enum cmd_end why;
	char *note;
	char *condition;
	char *ended_id; /* cmd_run_id() read inside ended(): the run is alive */
};

static void rec_stage(void *data, struct cmd_run *run, const struct dataform *form, bool last)
{
	struct rec *r = data;
	g_assert_true(form == cmd_run_current(run));
	r->stages++;
	r->last = last;
	r->attachments = cmd_run_attachments(run)->len;
}

static void rec_refused(void *data, struct cmd_run *run, const char *text)
{
	struct rec *r = data;
	(void)run;
	g_free(r->refused);
	r->refused = g_strdup(text);
}

static void rec_ended(void *data, struct cmd_run *run, enum cmd_end why, const char *note,
                      const struct dataform *result, const char *condition)
{
	struct rec *r = data;
	(void)result;
	r->ended++;
	r->why = why;
	r->note = g_strdup(note);
	r->condition = g_strdup(condition);
	r->ended_id = g_strdup(cmd_run_id(run));
	g_assert_true(cmd_run_ended(run));
}

static const struct cmd_sink sink = {rec_stage, rec_refused, rec_ended};

static void rec_clear(struct rec *r)
{
	g_free(r->refused);
	g_free(r->note);
	g_free(r->condition);
	g_free(r->ended_id);
	memset(r, 0, sizeof(*r));
}

/* ---- the fixture: a ctx on the gateway fixture's settings and storage ---------------- */

struct t {
	struct gw gw;
	struct gateway_ctx ctx;
	struct cmds *cmds;
};

static void t_setup(struct t *t, gconstpointer unused)
{
	(void)unused;
	gw_test_setup(&t->gw, "[access]\nadmins = " ADMIN "\n");
	memset(&t->ctx, 0, sizeof(t->ctx));
	t->ctx.settings = t->gw.settings;
	t->ctx.storage = t->gw.storage;
	t->ctx.jid = GW_JID;
	t->cmds = cmds_new(&t->ctx);
	cmds_add(t->cmds, &two);
	cmds_add(t->cmds, &user_only);
	cmds_add(t->cmds, &admin_only);
	cancels = 0;
}

static void t_teardown(struct t *t, gconstpointer unused)
{
	cmds_free(t->cmds);
	gw_test_teardown(&t->gw, unused);
}

static char *nodes(GPtrArray *defs)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < defs->len; i++) {
		const struct cmd_def *def = g_ptr_array_index(defs, i);
		g_string_append_printf(s, "%s%s", i > 0 ? "," : "", def->node);
	}
	g_ptr_array_unref(defs);
	return g_string_free(s, false);
}

static void test_roles(struct t *t, gconstpointer unused)
{
	(void)unused;
	g_assert_cmpint(cmds_role(t->cmds, ALICE), ==, CMD_ROLE_USER);
	g_assert_cmpint(cmds_role(t->cmds, "bob@example.org"), ==, CMD_ROLE_STRANGER);
	/* the admin list compares as JIDs do: case-insensitively */
	g_assert_cmpint(cmds_role(t->cmds, "root@example.org"), ==, CMD_ROLE_ADMIN);
	g_assert_cmpint(cmds_role(t->cmds, "ROOT@example.org"), ==, CMD_ROLE_ADMIN);
	g_assert_cmpint(cmds_role(t->cmds, "root@example.org.evil"), ==, CMD_ROLE_STRANGER);

	g_autofree char *stranger = nodes(cmds_allowed(t->cmds, "bob@example.org"));
	g_assert_cmpstr(stranger, ==, "test-two");
	g_autofree char *user = nodes(cmds_allowed(t->cmds, ALICE));
	g_assert_cmpstr(user, ==, "test-two,test-user");
	/* an admin who is not registered: no user commands */
	g_autofree char *admin = nodes(cmds_allowed(t->cmds, "root@example.org"));
	g_assert_cmpstr(admin, ==, "test-two,test-admin");
	gw_register_user(&t->gw, "root@example.org", "root", "pw");
	g_autofree char *both = nodes(cmds_allowed(t->cmds, "root@example.org"));
	g_assert_cmpstr(both, ==, "test-two,test-user,test-admin");

	g_assert_false(cmds_may_run(t->cmds, &admin_only, ALICE));
	g_assert_true(cmds_may_run(t->cmds, &user_only, ALICE));
	g_assert_false(cmds_may_run(t->cmds, &user_only, "bob@example.org"));
}

static void test_find(struct t *t, gconstpointer unused)
{
	(void)unused;
	const char *arg = "x";
	g_assert_true(cmds_find_node(t->cmds, "test-user", &arg) == &user_only);
	g_assert_null(arg);
	g_assert_null(cmds_find_node(t->cmds, "nope", &arg));
	g_assert_true(cmds_find_node(t->cmds, "prompt/17", &arg) == cmds_prompt_def());
	g_assert_cmpstr(arg, ==, "17");
	g_assert_null(cmds_find_node(t->cmds, "prompt/", &arg));
	g_assert_true(cmds_find_word(t->cmds, "STATS") == &admin_only);
	g_assert_null(cmds_find_word(t->cmds, "test-user"));
}

static void test_stages(struct t *t, gconstpointer unused)
{
	(void)unused;
	struct rec r = {0};
	struct cmd_run *run = cmd_run_start(t->cmds, &two, BOB_PC, NULL, &sink, &r);
	g_assert_cmpuint(r.stages, ==, 1);
	g_assert_false(r.last);
	g_assert_cmpstr(cmd_run_user(run), ==, "bob@example.org");
	g_assert_cmpstr(cmd_run_full(run), ==, BOB_PC);
	g_assert_cmpint(cmd_run_role(run), ==, CMD_ROLE_STRANGER);

	/* no form: the required field is missing, refused, the stage stays */
	cmd_run_submit(run, NULL);
	g_assert_nonnull(r.refused);
	g_assert_nonnull(strstr(r.refused, "name"));
	g_assert_cmpuint(r.stages, ==, 1);
	g_assert_nonnull(cmd_run_current(run));

	/* refused by the command: the same stage stays current */
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "name", NULL),
	                         "nobody");
	cmd_run_submit(run, sub);
	dataform_free(sub);
	g_assert_cmpstr(r.refused, ==, "not nobody");
	g_assert_nonnull(dataform_find_field(cmd_run_current(run), "name"));

	sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "name", NULL),
	                         " bob ");
	cmd_run_submit(run, sub);
	dataform_free(sub);
	g_assert_cmpuint(r.stages, ==, 2);
	g_assert_true(r.last);
	g_assert_true(cmd_run_last(run));
	g_assert_cmpuint(r.attachments, ==, 1);

	cmd_run_submit(run, NULL); /* the boolean is optional */
	g_assert_cmpuint(r.ended, ==, 1);
	g_assert_cmpint(r.why, ==, CMD_END_COMPLETED);
	g_assert_cmpstr(r.note, ==, "hello bob");
	g_assert_cmpuint(cancels, ==, 0);
	g_assert_cmpstr(r.ended_id, ==, cmd_run_id(run));
	/* still readable until the main loop runs; later calls are ignored */
	cmd_run_submit(run, NULL);
	cmd_run_cancel(run);
	g_assert_cmpuint(r.ended, ==, 1);
	gw_run_for(10);
	rec_clear(&r);
}

static void test_cancel(struct t *t, gconstpointer unused)
{
	(void)unused;
	struct rec r = {0};
	struct cmd_run *run = cmd_run_start(t->cmds, &two, BOB_PC, NULL, &sink, &r);
	struct dataform *c = dataform_new(DATAFORM_CANCEL);
	cmd_run_submit(run, c);
	dataform_free(c);
	g_assert_cmpuint(r.ended, ==, 1);
	g_assert_cmpint(r.why, ==, CMD_END_CANCELED);
	g_assert_cmpuint(cancels, ==, 1);
	g_assert_cmpint(cancel_why, ==, CMD_END_CANCELED);
	rec_clear(&r);

	run = cmd_run_start(t->cmds, &two, BOB_PC, NULL, &sink, &r);
	cmd_run_cancel(run);
	cmd_run_cancel(run);
	g_assert_cmpuint(cancels, ==, 2);
	g_assert_cmpuint(r.ended, ==, 1);
	rec_clear(&r);

	/* cmds_free ends what is still running: GONE */
	run = cmd_run_start(t->cmds, &two, BOB_PC, NULL, &sink, &r);
	cmds_free(t->cmds);
	t->cmds = NULL;
	g_assert_cmpuint(r.ended, ==, 1);
	g_assert_cmpint(r.why, ==, CMD_END_GONE);
	g_assert_cmpint(cancel_why, ==, CMD_END_GONE);
	rec_clear(&r);
}

static void test_expiry(struct t *t, gconstpointer unused)
{
	(void)unused;
	t->gw.settings->command_idle_seconds = 1;
	struct rec r = {0};
	struct cmd_run *run = cmd_run_start(t->cmds, &two, BOB_PC, NULL, &sink, &r);
	gw_run_for(700);
	cmd_run_submit(run, NULL); /* refused, but a user action: the clock restarts */
	gw_run_for(700);
	g_assert_cmpuint(r.ended, ==, 0);
	gw_run_for(500);
	g_assert_cmpuint(r.ended, ==, 1);
	g_assert_cmpint(r.why, ==, CMD_END_EXPIRED);
	g_assert_cmpuint(cancels, ==, 1);
	g_assert_cmpint(cancel_why, ==, CMD_END_EXPIRED);
	rec_clear(&r);
}

/* A command that shows one stage and then works on the submission for
 * ever (a check login that does not end). */
static void slow_start(struct cmd_run *run)
{
	cmd_run_form(run, dataform_new(DATAFORM_FORM), true);
}

static void slow_submit(struct cmd_run *run, const struct dataform *values)
{
	(void)run;
	(void)values;
}

static const struct cmd_def slow = {
    .node = "test-slow",
    .name = "Slow",
    .who = CMD_WHO_ANYONE,
    .start = slow_start,
    .submit = slow_submit,
};

/* While the command works the user is not idle: the run waits a few idle
 * periods more for it, then expires all the same. */
static void test_expiry_working(struct t *t, gconstpointer unused)
{
	(void)unused;
	t->gw.settings->command_idle_seconds = 1;
	struct rec r = {0};
	struct cmd_run *run = cmd_run_start(t->cmds, &slow, BOB_PC, NULL, &sink, &r);
	cmd_run_submit(run, NULL);
	gw_run_for(2500);
	g_assert_cmpuint(r.ended, ==, 0);
	gw_run_for(3000);
	g_assert_cmpuint(r.ended, ==, 1);
	g_assert_cmpint(r.why, ==, CMD_END_EXPIRED);
	rec_clear(&r);
}

static void test_limit_and_ids(struct t *t, gconstpointer unused)
{
	(void)unused;
	struct rec r[12] = {0};
	GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal);
	struct cmd_run *runs[12];
	for (guint i = 0; i < 10; i++) {
		runs[i] = cmd_run_start(t->cmds, &two, i % 2 ? BOB_PC : "bob@example.org/phone",
		                        NULL, &sink, &r[i]);
		g_assert_cmpuint(r[i].ended, ==, 0);
		g_assert_true(g_hash_table_add(ids, (gpointer)cmd_run_id(runs[i])));
	}
	runs[10] = cmd_run_start(t->cmds, &two, BOB_PC, NULL, &sink, &r[10]);
	g_assert_cmpuint(r[10].ended, ==, 1);
	g_assert_cmpint(r[10].why, ==, CMD_END_FAILED);
	g_assert_cmpstr(r[10].condition, ==, "resource-constraint");
	g_assert_true(g_hash_table_add(ids, (gpointer)cmd_run_id(runs[10])));
	/* another user is not counted with bob */
	runs[11] = cmd_run_start(t->cmds, &two, ALICE_PC, NULL, &sink, &r[11]);
	g_assert_cmpuint(r[11].ended, ==, 0);
	g_assert_true(g_hash_table_add(ids, (gpointer)cmd_run_id(runs[11])));
	g_hash_table_unref(ids);
	/* one ends: bob may start again */
	cmd_run_cancel(runs[0]);
	struct rec again = {0};
	cmd_run_start(t->cmds, &two, BOB_PC, NULL, &sink, &again);
	g_assert_cmpuint(again.ended, ==, 0);
	cmds_free(t->cmds);
	t->cmds = NULL;
	for (guint i = 0; i < 12; i++)
		rec_clear(&r[i]);
	rec_clear(&again);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct t, NULL, t_setup, fn, t_teardown)
	ADD("/cmd/roles", test_roles);
	ADD("/cmd/find", test_find);
	ADD("/cmd/stages", test_stages);
	ADD("/cmd/cancel", test_cancel);
	ADD("/cmd/expiry", test_expiry);
	ADD("/cmd/expiry-working", test_expiry_working);
	ADD("/cmd/limit-and-ids", test_limit_and_ids);
	return g_test_run();
}
