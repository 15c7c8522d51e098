/* worker: the internal interfaces between ferry-worker's files.
 *
 * ferry-worker runs libpurple headless for the accounts ferry asks for and
 * speaks include/ferry/worker_protocol.h on one socket. libpurple is a
 * process-wide singleton, so the modules below keep their state in file
 * statics (allowed here and only here, see style.md rule 8):
 *
 *   main.c         command line, signals, the GLib main loop
 *   purple_core.c  headless libpurple init/quit and the private user dir
 *   loop.c         libpurple's inputs (epoll) and timeouts on the GLib loop
 *   dns.c          host/SRV/TXT lookups through GResolver (no forked resolvers)
 *   channel.c      the socket to ferry: frames in, frames out
 *   accounts.c     account ids <-> PurpleAccount: lifecycle, acknowledgements
 *   commands.c     one handler per command from ferry (the catalogue's down half)
 *   quirks.c       what differs between protocols (prpl-irc's send timer, ...)
 *   events.c       libpurple signals and connection/conversation ops -> events
 *   chats.c        group chats: JOIN_CHAT ... PROBE_ROOM, chat ops and signals
 *   chats_admin.c  a room's topic, invitations, our nick, room probes
 *   chats_irc.c    prpl-irc's raw lines for chats (numerics, KICK/PART/QUIT)
 *   chats_jabber.c prpl-jabber's room probes (a raw disco#info)
 *   roomlist.c     LIST_ROOMS: libpurple's room list, bounded and batched
 *   requests.c     request, notify and account ui ops (questions libpurple asks)
 *   certs.c        ferry's TLS certificate verifier: CAs, per-account pins, the user
 *   describe.c     --describe: a protocol's user splits and options
 *   sandbox.c      no core dumps, no new privileges, Landlock (before libpurple)
 *   pause.c        PAUSE_READ: which account each input serves, paused reading
 *   xfers.c        file transfers offered to us: declined, FILE_OFFERED
 */
#ifndef FERRY_WORKER_H
#define FERRY_WORKER_H

#include <glib.h>
#include <stdbool.h>

#include <purple.h>

#include "ferry/log.h"
#include "ferry/worker_describe.h"
#include "ferry/worker_msgs.h"
#include "ferry/worker_protocol.h"

/* Whether g_debug() output is written (ferry at level debug, or --debug):
 * per-message debug lines check it first so their arguments are not
 * formatted for nothing. */
#define WORKER_DEBUG_ON() log_enabled(SETTINGS_LOG_DEBUG)

/* The UI id given to purple_core_init and used to enable accounts. */
#define WORKER_UI_ID "ferry-worker"

/* What main.c parsed from the command line. */
struct worker_config {
	int fd;              /* the socket to ferry */
	int acks_fd;         /* WORKER_ACKS_FD, or -1 */
	char **ca_files;     /* extra CA certificates (NULL-terminated; may be NULL) */
	guint login_timeout; /* seconds from LOGIN to sign-on */
	bool debug;          /* libpurple debug output on stderr */
	char *describe;      /* --describe PROTOCOL_ID, or NULL */
	/* --allow-server entries ([legacy] ferry.allowed_servers, or the
	 * preset server), with --deny-internal: the address policy is on */
	char **allowed_servers;
	bool deny_internal;
};

/* ---- main.c -------------------------------------------------------------- */

/* Asks the main loop to stop; the worker then logs out and exits. Safe to
 * call from any callback, more than once. */
void worker_quit(void);

/* ---- sandbox.c ----------------------------------------------------------- */

/* Confines the process before libpurple starts: RLIMIT_CORE 0, not
 * dumpable, no new privileges, and Landlock (the kernel's ABI, capped by
 * FERRY_WORKER_LANDLOCK_ABI): read-only system files, CONFIG's CA files,
 * read-write only the private dir (TMPDIR). false with ERROR when a step
 * the kernel offers fails. */
bool sandbox_apply(const struct worker_config *config, GError **error);

/* ---- purple_core.c ------------------------------------------------------- */

/* Makes the private user dir (0700), copies CONFIG's CA files into its "ca"
 * subdir, and initializes libpurple headless (prefs, ui ops, event loop).
 * On failure nothing is left behind. */
bool core_init(const struct worker_config *config, GError **error);

/* Quits libpurple and removes the private user dir. NULL-safe to repeat. */
void core_quit(void);

/* Returns the heap's free pages to the system (malloc_trim) a few seconds
 * from now, once: logins and logouts free much of what they allocate
 * (connection setup, the server's welcome burst). */
void core_trim_later(void);

/* ---- loop.c -------------------------------------------------------------- */

/* Sets libpurple's event loop ui ops: its inputs on one epoll fd and its
 * timeouts in one ordered queue, each behind one GSource on the default
 * main context. */
bool loop_install(GError **error);
/* BEGIN and END run around each batch of libpurple callbacks (an epoll
 * batch, a round of timers): main.c corks the channel with them, so what a
 * batch causes goes to ferry together. Set before loop_install(). */
void loop_set_batch_hooks(void (*begin)(void), void (*end)(void));
/* Removes both sources and frees what is left. NULL-safe to repeat. */
void loop_uninstall(void);

/* The ui ops themselves (ids from LOOP_ID_BASE up; a smaller id is passed
 * to g_source_remove). */
guint loop_timeout_add(guint interval_ms, GSourceFunc function, gpointer data);
guint loop_timeout_add_seconds(guint interval, GSourceFunc function, gpointer data);
gboolean loop_timeout_remove(guint id);
guint loop_input_add(int fd, PurpleInputCondition cond, PurpleInputFunction function,
                     gpointer data);
gboolean loop_input_remove(guint id);

/* The timeout a plugin added with g_timeout_add_seconds(…, DATA) (see
 * loop.c), or 0. */
guint loop_timer_of(gpointer data);
/* Runs timeout ID's callback now; it is then due again one interval later,
 * or removed if the callback returns FALSE (then false is returned). */
bool loop_timer_run(guint id);

/* Makes timeout ID never due (it stays until removed); false if unknown or
 * running. */
bool loop_timeout_park(guint id);
/* While ON, the first timeout added with NULL data is remembered; turning
 * it on forgets the previous one. */
void loop_capture_timeouts(bool on);
guint loop_captured_timeout(void);

/* The function of input ID, or NULL (pause.c learns sslconn.c's reader). */
PurpleInputFunction loop_input_function(guint id);
/* Works out again whose each input is (pause_owner()) and makes epoll
 * watch OWNER's read inputs as pause_is_paused() says; returns how many. */
guint loop_refresh_owner(PurpleAccount *owner);

/* ---- pause.c ------------------------------------------------------------- */

/* PAUSE_READ: stops or resumes polling the account's read inputs (DATA:
 * its struct account). */
void pause_on_pause_read(void *data, const struct worker_msg_pause_read *m);
/* The account an input of FUNCTION with DATA serves, else FALLBACK (see
 * pause.c for how it is found). */
PurpleAccount *pause_owner(PurpleInputFunction function, gpointer data, PurpleAccount *fallback);
/* The account whose callback runs now (NULL: none known). */
PurpleAccount *pause_context(void);
/* Around a callback for OWNER: returns the context to restore with
 * pause_leave(). */
PurpleAccount *pause_enter(PurpleAccount *owner);
void pause_leave(PurpleAccount *prev);
/* Whether PA's reading is paused (NULL: never). */
bool pause_is_paused(PurpleAccount *pa);

/* ---- dns.c --------------------------------------------------------------- */

/* Installs the DNS and SRV/TXT ui ops (GResolver, no forked resolvers). */
void dns_install(void);

/* Turns the address policy on (ferry/netpolicy.h): internal addresses
 * refused at every resolve and connect unless ALLOWED lists them. false
 * with ERROR for an entry that is no name, address or CIDR. */
bool dns_set_policy(char **allowed, GError **error);

/* ---- channel.c ----------------------------------------------------------- */

/* Where the commands read from ferry go. */
struct channel_handler {
	/* One command (PAYLOAD checked against the catalogue, borrowed). */
	void (*command)(guint32 type, guint32 account, GVariant *payload);
	/* After the commands of one read: time to acknowledge what they sent. */
	void (*batch_done)(void);
};

/* Starts watching FD (made non-blocking and close-on-exec). Incoming
 * commands go to HANDLER (borrowed, static); EOF or a bad frame calls
 * worker_quit(). */
bool channel_open(int fd, const struct channel_handler *handler, GError **error);

/* Queues one frame (taken; WORKER_FRAME() builds one) for ferry. Dropped
 * (logged at debug) once the channel is closed. */
void channel_send(GBytes *frame);

/* Sends WORKER_IMS_SENT on FD (made non-blocking and close-on-exec) from
 * now on, while it takes them at once; see WORKER_ACKS_FD. */
bool channel_open_acks(int fd, GError **error);

/* Between channel_cork() and channel_uncork() (nested), frames are queued
 * and then written together, one system call per socket. */
void channel_cork(void);
void channel_uncork(void);

/* Writes what is queued, waiting at most TIMEOUT_MS, then closes the fd. */
void channel_close(guint timeout_ms);

/* ---- accounts.c ---------------------------------------------------------- */

/* One legacy account ferry asked for (opaque outside accounts.c). */
struct account;

void accounts_init(guint login_timeout);

/* Logs every account out (sending DISCONNECTED LOGOUT when NOTIFY) and
 * destroys them now; for the end of the process, outside the main loop. */
void accounts_shutdown(bool notify);

/* Reports the IMs sent since the last call (WORKER_IMS_SENT, one per
 * account): called after each batch of commands read together. */
void accounts_send_acks(void);

/* The live account behind PA, or NULL when PA is not ours or is being
 * torn down (events for it must then be dropped). */
struct account *accounts_find(PurpleAccount *pa);

/* The live account with ferry's id ID, or NULL. */
struct account *accounts_lookup(guint32 id);

/* Kills the live account ID, if any, without telling ferry (a LOGIN reuses
 * its id: ferry has forgotten it). */
void accounts_drop(guint32 id);

/* A new account ID (WORKER_LOGIN_* FLAGS) for USERNAME on PROTOCOL, added
 * to libpurple but not enabled; an older account with the same id is
 * dropped. Its login deadline starts with account_connect(). */
struct account *accounts_add(guint32 id, guint32 flags, const char *protocol, const char *username);

/* Starts the login deadline and connects (this may end the account before
 * it returns). */
void account_connect(struct account *account);

guint32 account_id(const struct account *account);
PurpleAccount *account_purple(const struct account *account);
bool account_is_test(const struct account *account);
/* A test login becomes a normal one (WORKER_KEEP); false if it was not a
 * test login. */
bool account_keep(struct account *account);
/* true when signed on (its connection is up). */
bool account_is_connected(const struct account *account);
/* true from LOGIN until the sign-on (or the end). */
bool account_is_signing_on(const struct account *account);
/* What the network said against the login while it was signing on (e.g.
 * an IRC server's ERROR line), for the DISCONNECTED text; NULL: nothing. */
void account_set_complaint(struct account *account, const char *text);
const char *account_complaint(const struct account *account);

/* Sends an event about ACCOUNT (FRAME taken, built for its id). For test
 * logins only CONNECTED, NAME_FALLBACK and DISCONNECTED go now; IMs,
 * notices and authorization requests are held for KEEP (bounded), the rest
 * is dropped. */
void account_emit(struct account *account, GBytes *frame);

/* IM SEQ went to the network: acknowledged with the next IMS_SENT. */
void account_sent(struct account *account, guint32 seq);

/* The account signed on as DISPLAY_NAME: stops the login timer, sends
 * CONNECTED. */
void account_signed_on(struct account *account, const char *display_name);

/* The account is gone: sends DISCONNECTED once, stops all further events
 * for it and schedules its destruction (never from inside the caller's
 * libpurple callback). */
void account_fail(struct account *account, enum worker_reason reason, const char *text, bool fatal);
/* A TLS certificate of ACCOUNT's was verified (LINK_INFO sent): no
 * plaintext LINK_INFO goes before its CONNECTED. */
void account_link_known(struct account *account);
/* DELTA prompts of ACCOUNT opened (1) or closed (-1): while one is open,
 * the sign-on deadline waits (the user is being asked; ferry bounds it). */
void account_prompts_changed(struct account *account, int delta);

/* Remembers STATE (an opaque summary of a buddy's presence) as the last
 * one sent for buddy NAME; false if it is the same as before, so the event
 * can be skipped. */
bool account_presence_update(struct account *account, const char *name, const char *state);

/* Forgets what was sent for NAME (the next presence is always sent). */
void account_presence_forget(struct account *account, const char *name);

/* The account's paced line queue (sendq.c), or NULL where the protocol
 * sends messages whole. */
struct sendq *account_sendq(const struct account *account);
/* Gives ACCOUNT a line queue (taken). */
void account_set_sendq(struct account *account, struct sendq *q);

/* ---- sendq.c ------------------------------------------------------------- */

/* The lines of an account's messages on a line-based network (prpl-irc):
 * split, paced, fenced by a PING (see sendq.c). */
struct sendq;

/* A raw line prpl-irc received for Q's account, its prefix skipped (from
 * quirks.c's one watch on the input): our fence's PONG, or a 401 for a
 * nick we wrote to. */
void sendq_on_irc_line(struct sendq *q, const char *line);
/* A queue for ACCOUNT, whose options are set: takes over the account's
 * ratelimit-interval/-burst and turns the protocol's own limiter off. */
struct sendq *sendq_new(struct account *account);
/* Queues SEND_IM SEQ to NAME (HTML TEXT, at most MAX_LINES lines, 0: any)
 * and sends what the pace allows; refusals are answered (IM_RESULT). */
void sendq_push(struct sendq *q, guint32 seq, const char *name, const char *html,
                guint32 max_lines);
/* SEND_CHAT SEQ in channel ROOM, like sendq_push(); when its PONG confirms
 * it, CHAT_MESSAGE (its echo, with SEQ) goes up before the acknowledgement.
 * A 404 (cannot send to channel) fails it. */
void sendq_push_chat(struct sendq *q, guint32 seq, const char *room, const char *html,
                     guint32 max_lines);
/* The account is ending: acknowledges what was written in full, reports
 * how far the rest went (IM_PROGRESS), and drops it. */
void sendq_finish(struct sendq *q);
/* CANCEL_IMS: every message not yet written in full is dropped and
 * answered (IM_RESULT, WORKER_IM_CANCELLED); what was written is still
 * confirmed by its PONG. */
void sendq_cancel(struct sendq *q);
void sendq_free(struct sendq *q);
/* true (once) when the next system line in the conversation with
 * CONVERSATION is the protocol's own word for an error already answered
 * (IRC 401's "User is not logged in"): not to be relayed. Q may be NULL. */
bool sendq_swallow_line(struct sendq *q, const char *conversation);

/* ---- commands.c ---------------------------------------------------------- */

/* Carries out one command from ferry (channel_handler.command). PAYLOAD is
 * borrowed. */
void commands_handle(guint32 type, guint32 id, GVariant *payload);

/* ---- quirks.c ------------------------------------------------------------ */

/* After a command for ACCOUNT: sends what its protocol queued at once
 * (prpl-irc writes from a 1-second timer). NULL is a no-op. */
void quirks_flush_sends(struct account *account);

/* true when adding a buddy that is already listed must not be asked of the
 * protocol again (prpl-irc counts its adds). */
bool quirks_add_buddy_counts(const char *protocol_id);

/* true when the worker splits and paces the protocol's messages itself
 * (sendq.c): prpl-irc. */
bool quirks_paced_lines(const char *protocol_id);

/* Hooks into the protocols that need it (prpl-irc's raw input). Once, after
 * the core is up. */
void quirks_install(void);

/* Before ACCOUNT connects, with its options set: fills in what its protocol
 * would derive badly (prpl-irc: an ident made from the nick) and defaults
 * that differ from libpurple's (prpl-irc: a line that is not UTF-8 is read
 * as Latin-1 instead of each byte becoming '?'). */
void quirks_before_login(struct account *account);

/* The name ACCOUNT asked for when the network gave it DISPLAY_NAME instead
 * (prpl-irc: "bob" when signed on as "bob1"), else NULL. Caller frees. */
char *quirks_fallback(struct account *account, const char *display_name);

/* For a login that ends while signing on: one line, about what the user
 * typed, with the network's own reason (an IRC server's ERROR line or error
 * numeric) to use instead of libpurple's text, and *REASON adjusted; NULL
 * when the network said nothing. Caller frees. */
char *quirks_login_failure(struct account *account, enum worker_reason *reason);

/* ---- nul_filter.c -------------------------------------------------------- */

/* loop.c's hook: an input was added for FD with DATA (prpl-irc's are its
 * PurpleConnection) / removed. The read() of a prpl-irc connection's socket
 * drops NUL bytes (see nul_filter.c). */
void nul_filter_input_added(int fd, PurpleInputCondition cond, gpointer data);
void nul_filter_input_removed(int fd, PurpleInputCondition cond, gpointer data);

/* ---- events.c ------------------------------------------------------------ */

/* Connects the libpurple signals and sets the connection and conversation
 * ui ops. Needs an initialized core. */
void events_install(void);

/* Sends BUDDY's presence (WORKER_BUDDY_STATUS) if it differs from what was
 * last sent for its name. */
void events_report_buddy(PurpleBuddy *buddy);

/* ---- xfers.c ------------------------------------------------------------- */

/* Declines every file transfer offered to an account (FILE_OFFERED tells
 * ferry). */
void xfers_install(void);

/* true when MESSAGE, a line libpurple writes into CONV, is the
 * cancellation of an offer just declined (not passed on). */
bool xfers_swallow_line(PurpleConversation *conv, const char *message);

/* ---- chats.c ------------------------------------------------------------- */

/* Group chats: the JOIN_CHAT ... PROBE_ROOM handlers (commands.c's table
 * calls them) and the conversation ops and signals of chats (see chats.c). */
void chats_on_join_chat(void *data, const struct worker_msg_join_chat *m);
void chats_on_leave_chat(void *data, const struct worker_msg_leave_chat *m);
void chats_on_send_chat(void *data, const struct worker_msg_send_chat *m);
void chats_on_set_chat_topic(void *data, const struct worker_msg_set_chat_topic *m);
void chats_on_chat_invite(void *data, const struct worker_msg_chat_invite *m);
void chats_on_set_chat_nick(void *data, const struct worker_msg_set_chat_nick *m);
void chats_on_probe_room(void *data, const struct worker_msg_probe_room *m);
/* Fills OPS's chat members and connects the chat signals (events.c's
 * events_install calls it with its conversation ops). */
void chats_install(PurpleConversationUiOps *ops);
/* ACCOUNT ends: what waits for it (joins, nick changes) is dropped. */
void chats_account_gone(guint32 id);
/* A join ACCOUNT asked for failed (the room as the network names it). */
void chats_join_failed(struct account *account, const char *room, guint32 reason, const char *text);
/* The network refused OP in ROOM (NULL: no room in the line); false when
 * nothing of ours waited for that answer. */
bool chats_refused(struct account *account, guint32 op, const char *room, const char *text);
/* The topic the server reported for ROOM was set by WHO (IRC 333). */
void chats_topic_setter(struct account *account, const char *room, const char *who);

/* ---- chats_irc.c --------------------------------------------------------- */

/* The raw prpl-irc line being handled now, split (see chats_irc.c). */
struct irc_raw {
	PurpleConnection *gc;
	char *nick;    /* of the prefix, or "" */
	char *command; /* "KICK", "433", ... */
	char **params; /* trailing included */
	guint n;       /* params */
};
/* A raw line prpl-irc is about to parse for ACCOUNT (quirks.c's watch;
 * LINE past its prefix, NICK the prefix's nick). Answers join failures
 * and refusals from its numerics and keeps the line for the handlers
 * libpurple calls while parsing it. */
void chats_irc_line(struct account *account, PurpleConnection *gc, const char *nick,
                    const char *line);
/* The line prpl-irc is parsing for GC now, or NULL. */
const struct irc_raw *chats_irc_current(PurpleConnection *gc);

/* ---- chats_jabber.c ------------------------------------------------------ */

/* PROBE_ROOM on prpl-jabber: a disco#info to ROOM, answered by ROOM_INFO
 * within 10 s (see chats_jabber.c). */
void chats_jabber_probe(struct account *account, const char *room);
void chats_jabber_install(void);
void chats_jabber_account_gone(guint32 id);

/* ---- roomlist.c ---------------------------------------------------------- */

/* LIST_ROOMS (see roomlist.c). */
void roomlist_on_list_rooms(void *data, const struct worker_msg_list_rooms *m);
void roomlist_install(void);
void roomlist_account_gone(guint32 id);

/* ---- requests.c ---------------------------------------------------------- */

/* Sets the request, notify and account ui ops. */
void requests_install(void);

/* Answers the pending authorization request ID of ACCOUNT; false if there
 * is none (already answered, or gone with its connection). */
bool requests_answer_auth(struct account *account, guint32 id, bool granted);

/* The account whose connection's input prpl-irc or prpl-jabber is
 * handling in this very dispatch, or NULL. */
struct account *requests_input_account(void);

/* ---- certs.c ------------------------------------------------------------ */

/* Registers ferry's certificate verifier under the name libpurple's SSL
 * connections look up ("x509", "tls_cached"), replacing libpurple's. */
void certs_install(void);
/* ACCOUNT's pinned certificates (LOGIN option WORKER_OPTION_CERT_PINS:
 * "host port sha256" lines). */
void certs_set_pins(struct account *account, const char *text);
/* Account ID ended: its pins are forgotten. */
void certs_account_gone(guint32 id);
/* Why certs.c refused ACCOUNT's certificate just now (the connection is
 * failing because of it), or NULL. Caller frees. */
char *certs_take_failure(struct account *account);
/* prompts.c: the certificate question with DATA was withdrawn (its
 * connection is closing): no answer will come. */
void certs_prompt_withdrawn(void *data);

/* ---- prompts.c, prompt_fields.c: libpurple's requests asked of the user ---- */

/* certs.c's question about a certificate (plain text; borrowed). */
struct prompts_certificate {
	const char *title, *instructions;
	const char *host; /* as verified; with PORT and SHA256 the prompt's hidden fields */
	guint port;
	const char *sha256;
};
/* Asks ACCOUNT's user Q as a CERTIFICATE prompt, through libpurple's
 * request API with HANDLE (the SSL connection: closing it withdraws the
 * question, then certs_prompt_withdrawn(DATA)). CB(DATA, action) runs with
 * 0 reject (also for a cancel or a timeout), 1 once, 2 always. */
void prompts_ask_certificate(struct account *account, void *handle,
                             const struct prompts_certificate *q, PurpleRequestActionCb cb,
                             void *data);

/* Sets the request ui ops. */
void prompts_install(void);
/* While ON, an input request is answered with its default instead of
 * asked: around a libpurple call ferry makes itself that asks one (the
 * room list's conference server, roomlist.c). */
void prompts_own_question(bool on);
/* Why ferry refused a question of ACCOUNT's login on the user's behalf
 * (prpl-jabber's plaintext authentication), for the DISCONNECTED text, or
 * NULL; forgotten once taken (and when the account ends). Caller frees. */
char *prompts_take_refusal(guint32 account);
/* ANSWER_PROMPT (DATA unused: the prompt names its account). */
void prompts_on_answer(void *data, const struct worker_msg_answer_prompt *m);
struct prompt;
/* A prompt whose PROMPT could not be sent: cancelled from an idle callback. */
void prompts_cancel_now(struct prompt *p);

/* A field of a fields request as a PROMPT's form names it (VAR NULL: not
 * shown, an account field or an invisible one). */
struct prompt_field {
	char *var;
	PurpleRequestField *field;
};
void prompt_field_free(gpointer data);
/* A field table appended to FORM (TYPE, VAR, LABEL; keys static, values
 * owned), a value set on it (copied; NULL: left out), a picture's bytes
 * as its image (base64; too large: a desc saying so). */
GHashTable *prompt_entry_new(GPtrArray *form, const char *type, const char *var, const char *label);
void prompt_entry_set(GHashTable *entry, const char *key, const char *value);
void prompt_entry_image(GHashTable *entry, gconstpointer data, gsize size);
/* FIELDS as a PROMPT's form (field tables); SHOWN gets a struct
 * prompt_field per field, in order. */
GPtrArray *prompt_fields_form(PurpleRequestFields *fields, GPtrArray *shown);
/* Checks VALUES (var -> text) against every field of SHOWN, then writes
 * them with libpurple's setters (an account field gets PA); false with
 * *WHY (caller frees) and nothing written when one does not fit. */
bool prompt_fields_apply(GPtrArray *shown, GHashTable *values, PurpleAccount *pa, char **why);

/* Sends WORKER_NOTICE to PA's account. PA NULL (libpurple's notify ops
 * name no account): to the account whose input prpl-irc or prpl-jabber is
 * handling in this dispatch; failing that, or PA not ours, only logged.
 * TEXT is plain text. */
void requests_notice(PurpleAccount *pa, const char *title, const char *text);

/* ---- describe.c ---------------------------------------------------------- */

/* Prints PROTOCOL_ID's description (worker_describe.h) on stdout.
 * Returns the process exit status: 0, or 2 for an unknown protocol (the
 * known ids are listed on stderr). Needs an initialized core. */
int describe_protocol(const char *protocol_id);

#endif
