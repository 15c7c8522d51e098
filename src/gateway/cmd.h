/* cmd: the transport's commands, whatever asks for them. A command is a
 * struct cmd_def; one execution of it is a run, a sequence of stages (a
 * data form each) that ends completed (a note, maybe a result form),
 * cancelled, expired or failed. Two front-ends drive runs: adhoc.c
 * (XEP-0050 iqs, one run per session id, bound to the requester's full
 * JID) and chatbot.c (messages to the bare transport JID, one run per
 * user at a time, the form asked one field per message). The commands
 * (cmds_*.c) never see which.
 *
 * A command answers a stage now or later (a registration's check login
 * takes seconds): until it calls cmd_run_form(), cmd_run_done(),
 * cmd_run_refuse() or cmd_run_fail(), the front-end waits (adhoc.c holds
 * the iq, at most CMD_HOLD_SECONDS, then answers with an "executing"
 * stage saying it is still working; chatbot.c says nothing more).
 *
 * Lifetime: cmd_run_done() and cmd_run_fail() end the run; so do the
 * user's cancel and the idle expiry, which call def->cancel first. After
 * the end the run is freed once the current callback has returned (never
 * inside one of the calls above), and its state with it (the state's
 * free function). A command that started something asynchronous (a check
 * login) must stop it in cancel.
 */
#ifndef FERRY_GATEWAY_CMD_H
#define FERRY_GATEWAY_CMD_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/dataform.h"
#include "internal.h"

struct prompt; /* prompts.h */
struct adhoc;
struct chatbot;

#define NS_COMMANDS "http://jabber.org/protocol/commands" /* XEP-0050 */
#define NS_ADMIN "http://jabber.org/protocol/admin"       /* XEP-0133 */
#define NS_BOB "urn:xmpp:bob"                             /* XEP-0231 */
#define NS_MEDIA "urn:xmpp:media-element"                 /* XEP-0221 */

/* A run with nothing from the user for this long ends (expired), when
 * settings->command_idle_seconds ([limits], tests shorten it) is 0. */
#define CMD_IDLE_SECONDS (15 * 60)
/* How long adhoc.c holds an iq for a command's late answer. */
#define CMD_HOLD_SECONDS 25

/* Who is asking, most rights last. */
enum cmd_role {
	CMD_ROLE_STRANGER, /* may use the transport ([access]), not registered */
	CMD_ROLE_USER,     /* registered */
	CMD_ROLE_ADMIN,    /* in [access] admins (registered or not) */
};

/* Who may run a command. */
enum cmd_who {
	CMD_WHO_ANYONE,     /* every role (jabber:iq:register) */
	CMD_WHO_REGISTERED, /* users and admins who are registered */
	CMD_WHO_ADMIN,      /* admins */
};

/* How a run ended, for the front-end. */
enum cmd_end {
	CMD_END_COMPLETED, /* cmd_run_done() */
	CMD_END_FAILED,    /* cmd_run_fail() */
	CMD_END_CANCELED,  /* the user cancelled (action cancel, a cancel form, `abort`) */
	CMD_END_EXPIRED,   /* idle too long */
	CMD_END_GONE,      /* the front-end let it go (the user's resource left, shutdown) */
};

struct cmds;
struct cmd_run;

struct cmd_def {
	const char *node; /* the XEP-0050 node, e.g. "jabber:iq:register" */
	const char *name; /* the disco name, e.g. "Register" */
	const char *word; /* the chat word, lower case ("register"); NULL: not by chat */
	const char *help; /* one line for `help` and the disco name's details */
	enum cmd_who who;
	/* Shows the first stage (or ends at once). */
	void (*start)(struct cmd_run *run);
	/* The user submitted the current stage: VALUES are what dataform_check()
	 * made of the submission against the stage's form (normalized; only
	 * that form's fields; required ones present). */
	void (*submit)(struct cmd_run *run, const struct dataform *values);
	/* The run ends before the command ended it (canceled, expired, gone):
	 * stop what it started. No call on RUN after. NULL: nothing to stop. */
	void (*cancel)(struct cmd_run *run, enum cmd_end why);
};

/* ---- the registry (cmd.c) --------------------------------------------------------- */

/* The commands of the transport at CTX; registers nothing with the router
 * (the front-ends do). */
struct cmds *cmds_new(const struct gateway_ctx *ctx);
/* Ends every run (CMD_END_GONE), then frees. NULL is a no-op. */
void cmds_free(struct cmds *cmds);
/* Adds DEF (borrowed, static). Order is the order of listings and help. */
void cmds_add(struct cmds *cmds, const struct cmd_def *def);
/* The command of NODE, or NULL. "prompt/<id>" nodes are found as the
 * prompts' def (cmds_prompt_def) with the id as argument (*ARG, borrowed
 * from NODE; NULL for other nodes). */
const struct cmd_def *cmds_find_node(const struct cmds *cmds, const char *node, const char **arg);
/* CONTRACT: every def added, in order (borrowed), for adhoc.c's disco nodes. */
const GPtrArray *cmds_defs(const struct cmds *cmds);
/* The command of chat word WORD (any case), or NULL. */
const struct cmd_def *cmds_find_word(const struct cmds *cmds, const char *word);
/* The defs ROLE may run and sees, in order (borrowed; caller frees the
 * array only). A registered admin sees the user commands too. */
GPtrArray *cmds_allowed(const struct cmds *cmds, const char *bare_jid);
/* Whether BARE_JID may run DEF now. */
bool cmds_may_run(const struct cmds *cmds, const struct cmd_def *def, const char *bare_jid);
/* BARE_JID's role: admin ([access] admins), user (registered), stranger. */
enum cmd_role cmds_role(const struct cmds *cmds, const char *bare_jid);
/* Whether BARE_JID is registered (storage). */
bool cmds_is_registered(const struct cmds *cmds, const char *bare_jid);

/* ---- runs, for the front-ends (cmd.c) ------------------------------------------------ */

struct cmd_sink {
	/* The run shows FORM (borrowed, for the call) as its next stage; LAST:
	 * completing it is the last step (XEP-0050 actions execute='complete'). */
	void (*stage)(void *sink, struct cmd_run *run, const struct dataform *form, bool last);
	/* The submission was refused (the stage stays): TEXT for the user. */
	void (*refused)(void *sink, struct cmd_run *run, const char *text);
	/* The run ended (WHY); for COMPLETED a NOTE and maybe a RESULT form; for
	 * FAILED an XMPP error CONDITION and a TEXT (NOTE). The run is freed
	 * after this returns: forget it. */
	void (*ended)(void *sink, struct cmd_run *run, enum cmd_end why, const char *note,
	              const struct dataform *result, const char *condition);
};

/* Starts DEF for FULL_JID (the requester: a full JID for adhoc.c, the
 * sending full JID for chatbot.c) with ARG (NULL, or a prompt id for the
 * prompt def), reporting to SINK with SINK_DATA (borrowed; must outlive
 * the run or end it). def->start runs inside. Returns the run (it may
 * have ended already: then the sink's ended() was called and the run is
 * freed when the caller returns to the main loop; use cmd_run_ended()). */
struct cmd_run *cmd_run_start(struct cmds *cmds, const struct cmd_def *def, const char *full_jid,
                              const char *arg, const struct cmd_sink *sink, void *sink_data);
/* The user submitted SUBMISSION (a form of type submit, or NULL: no form,
 * "execute" without data): checked against the current stage's form with
 * dataform_check(); a failure is reported as refused (bad-payload), never
 * reaches the command. A cancel form cancels. Ignored after the end. */
void cmd_run_submit(struct cmd_run *run, const struct dataform *submission);
/* The user did something for the run without submitting (the chat bot's
 * answer to one field of the stage): its idle expiry starts again.
 * Ignored after the end. */
void cmd_run_touch(struct cmd_run *run);
/* The user cancels: def->cancel(CANCELED), then ended(CANCELED). */
void cmd_run_cancel(struct cmd_run *run);
/* The front-end lets the run go without a word to the user: def->cancel
 * (GONE), ended(GONE). */
void cmd_run_drop(struct cmd_run *run);
/* true once the run ended (its sink got ended()). */
bool cmd_run_ended(const struct cmd_run *run);
/* The current stage's form (NULL before the first, or while the command
 * works on a submission). Borrowed. */
const struct dataform *cmd_run_current(const struct cmd_run *run);
/* Whether the current stage is the last. */
bool cmd_run_last(const struct cmd_run *run);
/* A unique id of the run (XEP-0050 sessionid), never reused in this process. */
const char *cmd_run_id(const struct cmd_run *run);
/* The stanzas to add next to the current stage (BOB <data/>), borrowed:
 * a list of struct stanza *, maybe empty. */
const GPtrArray *cmd_run_attachments(const struct cmd_run *run);

/* ---- runs, for the commands (cmd.c) --------------------------------------------------- */

const struct gateway_ctx *cmd_run_ctx(const struct cmd_run *run);
struct cmds *cmd_run_cmds(const struct cmd_run *run);
const struct cmd_def *cmd_run_def(const struct cmd_run *run);
/* The requester's bare and full JID. Borrowed. */
const char *cmd_run_user(const struct cmd_run *run);
const char *cmd_run_full(const struct cmd_run *run);
/* The argument given at the start (NULL: none). Borrowed. */
const char *cmd_run_arg(const struct cmd_run *run);
enum cmd_role cmd_run_role(const struct cmd_run *run);
/* The command's own state: set once, freed with FREE when the run is. */
void *cmd_run_state(const struct cmd_run *run);
void cmd_run_set_state(struct cmd_run *run, void *state, GDestroyNotify free);
/* The next stage: FORM (taken; of type form), LAST as for the sink. */
void cmd_run_form(struct cmd_run *run, struct dataform *form, bool last);
/* Adds STANZA (taken) to what goes out next to the next stage (cleared at
 * each stage). */
void cmd_run_attach(struct cmd_run *run, struct stanza *stanza);
/* Refuses the submission (the current stage stays, a text for the user). */
void cmd_run_refuse(struct cmd_run *run, const char *text);
/* Ends the run completed with NOTE (plain text, NULL none) and RESULT (a
 * form of type result, taken; NULL none). */
void cmd_run_done(struct cmd_run *run, const char *note, struct dataform *result);
/* Ends the run failed with an XMPP error CONDITION ("forbidden",
 * "item-not-found", "not-allowed", "internal-server-error", ...) and TEXT. */
void cmd_run_fail(struct cmd_run *run, const char *condition, const char *text);

/* ---- the commands (cmds_*.c) ----------------------------------------------------------- */

/* cmds_account.c: jabber:iq:register, unregister, relogin, settings. */
void cmds_add_account(struct cmds *cmds);
/* CONTRACT: where the preferences are stored: the user's settings under
 * this prefix (no form field has it); a re-registration keeps them. */
#define CMDS_PREF_PREFIX "ferry#"
/* CONTRACT: the user's ferry preference VAR ("notices"; the contacts issue
 * adds "receipts"), as the settings command stored it, else its default. */
bool cmds_account_pref(const struct gateway_ctx *ctx, const char *bare_jid, const char *var);
/* cmds_info.c: status, contacts, prompts (and the prompt/<id> def). */
void cmds_add_info(struct cmds *cmds);
/* cmds_admin.c: stats and the XEP-0133 nodes. */
void cmds_add_admin(struct cmds *cmds);
/* CONTRACT: (C2) cmds_admin.c: TEXT as a chat message from the transport
 * to every admin ([access] admins): an account quarantined, workers
 * crashing in a loop. */
void cmds_admin_alert(const struct gateway_ctx *ctx, const char *text);
/* CONTRACT: (C2) the legacy side's crash_loop callback: DEATHS workers
 * died within SECONDS; the admins are alerted. */
void cmds_admin_crash_loop(const struct gateway_ctx *ctx, guint deaths, guint seconds);
/* The def that runs one prompt (ARG: its id as text): its form as the one
 * stage, the submission its answer; the run ends when the prompt closes.
 * Listed as node "prompt/<id>" while the prompt is open. */
const struct cmd_def *cmds_prompt_def(void);

/* ---- the front-ends --------------------------------------------------------------------- */

/* adhoc.c: XEP-0050 on the transport's bare and full JID: the commands
 * node's items (filtered by who asks), each node's disco#info, execute. */
struct adhoc *adhoc_new(const struct gateway_ctx *ctx, struct cmds *cmds);
void adhoc_free(struct adhoc *adhoc);

/* chatbot.c: chat to the bare transport JID. */
struct chatbot *chatbot_new(const struct gateway_ctx *ctx, struct cmds *cmds);
void chatbot_free(struct chatbot *bot);
/* A message M from FROM (a user JID, admitted) to the transport: a
 * command, or an answer to the user's run. */
void chatbot_on_message(struct chatbot *bot, const struct stanza *m, const struct jid *from);
/* The open prompt P of BARE_JID, announced by no running command: asked
 * by chat now (a run of the prompt def), with the form embedded in the
 * first message and an XEP-0050 announcement of node prompt/<id>. */
void chatbot_ask_prompt(struct chatbot *bot, const char *bare_jid, struct prompt *p);
/* Tells BARE_JID TEXT as the bot (a chat message from the transport),
 * within the bot's answer rate. */
void chatbot_tell(struct chatbot *bot, const char *bare_jid, const char *text);

#endif
