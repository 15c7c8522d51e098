/* cmd_helpers: XEP-0050 runs driven through the gateway fixture, for the
 * command tests (test_cmds_info.c, test_cmds_admin.c). Header-only: each
 * test includes it once. */
#ifndef FERRY_TEST_CMD_HELPERS_H
#define FERRY_TEST_CMD_HELPERS_H

#include <string.h>

#include "gateway_fixture.h"
#include "ferry/dataform.h"

#define NS_CMD "http://jabber.org/protocol/commands"

/* Executes NODE as FROM; returns the answer (an iq to FROM). */
static inline struct stanza *cmd_execute(struct gw *gw, const char *from, const char *node)
{
	gw_injectf(gw,
	           "<iq type='set' id='ex' from='%s' to='" GW_JID "'><command xmlns='" NS_CMD
	           "' node='%s' action='execute'/></iq>",
	           from, node);
	return gw_expect(gw, "iq", "*", from);
}

/* Submits FIELDS (<field/>s XML) to run SID of NODE as FROM with ACTION. */
static inline void cmd_submit_only(struct gw *gw, const char *from, const char *node,
                                   const char *sid, const char *action, const char *fields)
{
	gw_injectf(gw,
	           "<iq type='set' id='sub' from='%s' to='" GW_JID "'><command xmlns='" NS_CMD
	           "' node='%s' sessionid='%s' action='%s'><x xmlns='jabber:x:data' "
	           "type='submit'>%s</x></command></iq>",
	           from, node, sid, action, fields);
}

static inline struct stanza *cmd_submit(struct gw *gw, const char *from, const char *node,
                                        const char *sid, const char *action, const char *fields)
{
	cmd_submit_only(gw, from, node, sid, action, fields);
	return gw_expect(gw, "iq", "*", from);
}

static inline const struct stanza *cmd_of(const struct stanza *iq)
{
	const struct stanza *c = stanza_find_child(iq, "command", NS_CMD);
	g_assert_nonnull(c);
	return c;
}

static inline const char *cmd_status(const struct stanza *iq)
{
	return stanza_get_attr(cmd_of(iq), "status");
}

static inline char *cmd_sid(const struct stanza *iq)
{
	return g_strdup(stanza_get_attr(cmd_of(iq), "sessionid"));
}

/* The note's text, or NULL. Caller frees. */
static inline char *cmd_note(const struct stanza *iq)
{
	return stanza_get_child_text(cmd_of(iq), "note", NS_CMD);
}

/* The command's form, parsed. Caller frees. */
static inline struct dataform *cmd_form(const struct stanza *iq)
{
	const struct stanza *x = stanza_find_child(cmd_of(iq), "x", "jabber:x:data");
	g_assert_nonnull(x);
	g_autoptr(GError) err = NULL;
	struct dataform *f = dataform_parse(x, &err);
	g_assert_no_error(err);
	return f;
}

#endif
