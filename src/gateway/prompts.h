/* prompts: the questions libpurple asks a user (PROMPT events of their
 * session's account or of their registration's check login), and ferry's
 * own (a changed legacy password), while they are open.
 *
 * A prompt is answered at most once, by whichever route comes first: a
 * command run showing it (the registration run whose check login raised
 * it, the prompts command, node prompt/<id>), or the chat bot asking it.
 * Everything else learns that it closed through its watchers. A prompt
 * nobody claims when it opens is given to the chat bot
 * (chatbot_ask_prompt). Open prompts time out to cancel (never to the
 * default: libpurple's certificate question defaults to Accept) after
 * the settings' prompt_timeout_ms (default 10 min).
 */
#ifndef FERRY_GATEWAY_PROMPTS_H
#define FERRY_GATEWAY_PROMPTS_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/dataform.h"
#include "internal.h"

struct prompts;
struct prompt;

/* How a prompt ended, for its watchers. */
enum prompt_end {
	PROMPT_END_ANSWERED,  /* answered (by this route or another) */
	PROMPT_END_CANCELLED, /* cancelled by the user, or timed out */
	PROMPT_END_WITHDRAWN, /* the plugin took it back, or its login ended */
};

/* Why a prompt is closed, as said to a watcher: END and a TEXT for the
 * user ("" none). After the call P is freed. */
typedef void (*prompt_closed_fn)(void *data, struct prompt *p, enum prompt_end end,
                                 const char *text);

struct prompts *prompts_new(const struct gateway_ctx *ctx);
/* Every open prompt is withdrawn (watchers told), then freed. */
void prompts_free(struct prompts *prompts);

/* ---- from the legacy side (gateway.c dispatches) ------------------------------------- */

/* A PROMPT, PROMPT_CLOSED or PROMPT_ERROR event of ACCOUNT, whose user is
 * BARE_JID (a session's or a registration's check login). true when EVENT
 * was one of them. */
bool prompts_on_event(struct prompts *prompts, const char *bare_jid, guint32 account,
                      const struct legacy_event *event);
/* ACCOUNT ended (logout, lost worker, failed login): its prompts are
 * withdrawn. */
void prompts_account_gone(struct prompts *prompts, guint32 account);

/* ---- claiming: a running command takes an account's new prompts --------------------- */

/* From now on ACCOUNT's new prompts go to FN(DATA, p) instead of the chat
 * bot (the registration run of its check login). One claim per account;
 * ended by prompts_unclaim or the account's end. */
void prompts_claim(struct prompts *prompts, guint32 account,
                   void (*fn)(void *data, struct prompt *p), void *data);
void prompts_unclaim(struct prompts *prompts, guint32 account);

/* ---- ferry's own prompts --------------------------------------------------------------- */

/* Asks BARE_JID FORM (taken; type form) with TITLE and INSTRUCTIONS; its
 * answer goes to ANSWER(DATA, values) (values: the checked submission;
 * NULL: cancelled or timed out), then FREE_DATA(DATA). Handed to the chat
 * bot like a libpurple prompt. Returns the prompt (borrowed). */
struct prompt *prompts_ask(struct prompts *prompts, const char *bare_jid, const char *title,
                           const char *instructions, struct dataform *form,
                           void (*answer)(void *data, const struct dataform *values), void *data,
                           GDestroyNotify free_data);

/* CONTRACT (B1, additive): true when BARE_JID has one of ferry's own
 * prompts open whose answer goes to ANSWER (a flow asks once at a time). */
bool prompts_asking(const struct prompts *prompts, const char *bare_jid,
                    void (*answer)(void *data, const struct dataform *values));

/* ---- reading and answering --------------------------------------------------------------- */

/* BARE_JID's open prompts, oldest first (borrowed; caller frees the array). */
GPtrArray *prompts_of(const struct prompts *prompts, const char *bare_jid);
/* BARE_JID's open prompt ID, or NULL. */
struct prompt *prompts_find(const struct prompts *prompts, const char *bare_jid, guint id);

/* The id the user sees (unique per process), its user, title, instructions. */
guint prompt_id(const struct prompt *p);
const char *prompt_user(const struct prompt *p);
const char *prompt_title(const struct prompt *p);
const char *prompt_instructions(const struct prompt *p);
/* Its form as a stage: type form, title and instructions set, a field per
 * libpurple field (images as fixed fields with an XEP-0221 <media/>
 * pointing to BOB cid:, text alternatives, a QR code's text also drawn in
 * Unicode blocks). Caller frees. */
struct dataform *prompt_form(const struct prompt *p);
/* The stanzas that go with the form: a BOB <data/> per picture (PNG, JPEG,
 * GIF; TGA dropped with a text note). Caller frees the array (stanzas
 * owned by it). */
GPtrArray *prompt_attachments(const struct prompt *p);
/* true when the prompt asks for a secret (a text-private field). */
bool prompt_has_secret(const struct prompt *p);

/* Answers P with VALUES (checked against prompt_form(); NULL: cancel).
 * false when it is no longer open or an answer is already on its way:
 * the first answer wins. The worker's confirmation closes P (watchers'
 * closed: ANSWERED or CANCELLED); a value the worker refuses
 * (PROMPT_ERROR) makes P open for an answer again (watchers' refused). */
bool prompt_answer(struct prompt *p, const struct dataform *values);

/* Who follows P: CLOSED when it closes, however (then P is freed);
 * REFUSED (may be NULL) when the worker refused an answer, TEXT saying
 * why (P is open again). */
struct prompt_watcher {
	prompt_closed_fn closed;
	void (*refused)(void *data, struct prompt *p, const char *text);
};
/* Several watchers per prompt; WATCHER borrowed (static), keyed with DATA. */
void prompt_watch(struct prompt *p, const struct prompt_watcher *watcher, void *data);
void prompt_unwatch(struct prompt *p, const struct prompt_watcher *watcher, void *data);

/* The BOB iq (XEP-0231 get of cid CID) for data BARE_JID was shown: the
 * <data/> to answer with (a copy, caller frees) or NULL. */
struct stanza *prompts_bob(const struct prompts *prompts, const char *bare_jid, const char *cid);

/* CONTRACT (B1, additive): the LOGIN options of a registered user's
 * login get the user's pinned certificates: SETTINGS' (the stored ones)
 * "ferry.cert_pins" into OPTIONS as WORKER_OPTION_CERT_PINS. Called where
 * the login's options are built (session.c, registration.c). */
void prompts_login_options(GHashTable *settings, GHashTable *options);
/* Adds PIN ("host port sha256") to the pinned certificates in SETTINGS
 * (a user's settings, as stored), replacing one for the same host and
 * port. */
void prompts_pins_add(GHashTable *settings, const char *pin);

#endif
