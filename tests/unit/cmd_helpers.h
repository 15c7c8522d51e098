/* cmd_helpers: runs of the real commands (cmd.c's registry with
 * cmds_add_info and cmds_add_admin) on the gateway fixture's transport,
 * reported to a sink that records, for test_cmds_info.c and
 * test_cmds_admin.c. Header-only: each test includes it once. The
 * front-ends (adhoc.c, chatbot.c) are tested on their own. */
#ifndef FERRY_TEST_CMD_HELPERS_H
#define FERRY_TEST_CMD_HELPERS_H

#include <string.h>

#include "../../src/gateway/cmd.h"
#include "gateway_fixture.h"
#include "../../src/gateway/internal.h"
#include "ferry/dataform.h"

/* What the sink was told. */
struct rec {
	struct cmd_run *run;
	guint stages;
	struct dataform *form; /* the last stage's, copied */
	bool last;
	char *refused;
	bool ended;
	enum cmd_end why;
	char *note;
	struct dataform *result; /* copied */
	char *condition;
};

struct ct {
	struct gw gw;
	struct cmds *cmds;
	struct rec rec;
};

/* FORM, copied through its XML. */
static inline struct dataform *copy_form(const struct dataform *form)
{
	struct stanza *iq = stanza_new("iq");
	struct dataform *copy = dataform_parse(dataform_add_to(form, iq), NULL);
	stanza_free(iq);
	return copy;
}

static inline void rec_clear(struct rec *r)
{
	g_clear_pointer(&r->form, dataform_free);
	g_clear_pointer(&r->result, dataform_free);
	g_clear_pointer(&r->refused, g_free);
	g_clear_pointer(&r->note, g_free);
	g_clear_pointer(&r->condition, g_free);
}

static inline void sink_stage(void *data, struct cmd_run *run, const struct dataform *form,
                              bool last)
{
	(void)run;
	struct rec *r = data;
	r->stages++;
	g_clear_pointer(&r->form, dataform_free);
	r->form = copy_form(form);
	r->last = last;
}

static inline void sink_refused(void *data, struct cmd_run *run, const char *text)
{
	(void)run;
	struct rec *r = data;
	g_free(r->refused);
	r->refused = g_strdup(text);
}

static inline void sink_ended(void *data, struct cmd_run *run, enum cmd_end why, const char *note,
                              const struct dataform *result, const char *condition)
{
	(void)run;
	struct rec *r = data;
	r->ended = true;
	r->why = why;
	r->note = g_strdup(note);
	r->result = result != NULL ? copy_form(result) : NULL;
	r->condition = g_strdup(condition);
	r->run = NULL;
}

static const struct cmd_sink rec_sink = {
    .stage = sink_stage,
    .refused = sink_refused,
    .ended = sink_ended,
};

static inline void ct_setup(struct ct *t, gconstpointer extra)
{
	gw_test_setup(&t->gw, extra);
	t->cmds = cmds_new(gateway_context(t->gw.gateway));
	cmds_add_info(t->cmds);
	cmds_add_admin(t->cmds);
	memset(&t->rec, 0, sizeof(t->rec));
}

static inline void ct_teardown(struct ct *t, gconstpointer unused)
{
	cmds_free(t->cmds);
	rec_clear(&t->rec);
	gw_test_teardown(&t->gw, unused);
}

/* Starts NODE (ARG: NULL) for FULL; what it said is in t->rec (cleared
 * first). */
static inline void ct_start(struct ct *t, const char *full, const char *node)
{
	rec_clear(&t->rec);
	memset(&t->rec, 0, sizeof(t->rec));
	const char *arg = NULL;
	const struct cmd_def *def = cmds_find_node(t->cmds, node, &arg);
	g_assert_nonnull(def);
	t->rec.run = cmd_run_start(t->cmds, def, full, arg, &rec_sink, &t->rec);
}

/* Submits FIELDS (<field/>s XML) to the current run. */
static inline void ct_submit(struct ct *t, const char *fields)
{
	g_assert_nonnull(t->rec.run);
	g_autofree char *xml = g_strdup_printf(
	    "<message><x xmlns='jabber:x:data' type='submit'>%s</x></message>", fields);
	struct stanza *m = test_parse_stanza(xml);
	struct dataform *sub = dataform_parse(stanza_next_child(m, NULL), NULL);
	g_assert_nonnull(sub);
	g_clear_pointer(&t->rec.refused, g_free);
	cmd_run_submit(t->rec.run, sub);
	dataform_free(sub);
	stanza_free(m);
}

/* The first value of VAR in the last stage's form. */
static inline const char *ct_value(const struct ct *t, const char *var)
{
	g_assert_nonnull(t->rec.form);
	return dataform_get_value(t->rec.form, var);
}

#endif
