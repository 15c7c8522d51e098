/* internal: the modules of the transport and what they share. Nothing
 * outside src/gateway/ includes this; the rest of ferry sees
 * include/ferry/gateway.h.
 *
 * gateway.c       wiring; stanzas dispatched by address kind, legacy events
 *                 by the owner of their account
 * out.c           outbound stanza builders: presence, notices, bounces
 * address.c       legacy names <-> JIDs (XEP-0106), address kinds, who may
 *                 use the transport
 * logins.c        login pacing, and registrations' checked logins kept for
 *                 the session that follows
 * registration.c  jabber:iq:register (XEP-0077/0100) and jabber:iq:gateway
 * resources.c     a user's available resources and which sets the status
 * session.c       per-user state machine: resources, legacy login, retries
 * session_end.c   how a session ends otherwise: drains, unregistration,
 *                 quarantine, stalls
 * status.c        the transport's presence to a user; failed-login reports
 * contacts.c      legacy buddies as XMPP contacts: presence, subscriptions
 * messages.c      messages and chat states both ways, the outbox, notices
 * roster.c        XEP-0356 roster pushes, or one subscription request each
 *
 * Each module owns its struct; the others see it through functions. They
 * reach one another through struct gateway_ctx, which gateway.c fills in
 * and nobody else writes.
 */
#ifndef FERRY_GATEWAY_INTERNAL_H
#define FERRY_GATEWAY_INTERNAL_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/disco.h"
#include "ferry/gateway.h"
#include "ferry/jid.h"
#include "ferry/legacy.h"
#include "ferry/ns.h"
#include "ferry/regform.h"
#include "ferry/router.h"
#include "ferry/settings.h"
#include "ferry/stanza.h"
#include "ferry/storage.h"

/* How long a registration's test login may take before the user is told. */
#define GATEWAY_TEST_LOGIN_SECONDS 45
/* The one resource of the transport's and every contact's full JID, from
 * which they send presence and messages (clients such as Gajim 1.7 track
 * presence of full JIDs only). Subscriptions and roster items stay on the
 * bare JIDs. A constant: a client that locks onto it keeps it across
 * restarts, and prpl-jabber's many resources of one contact are one
 * buddy to libpurple anyway. */
#define GATEWAY_RESOURCE "ferry"
/* How long an undelivered message may wait in the outbox for a reconnect. */
#define GATEWAY_OUTBOX_MAX_AGE_SECONDS (15 * 60)

struct address;
struct logins;
struct registration;
struct sessions;
struct session;
struct contacts;
struct contact;
struct messages;
struct roster;
struct content;
struct muc_list;
struct cmds;
struct adhoc;
struct chatbot;
struct prompts;

/* The ports main.c passed in and the modules, for the modules. */
struct gateway_ctx {
	const struct settings *settings;
	struct router *router;             /* sending, and the handlers */
	struct disco *disco;               /* modules add their entries */
	struct storage *storage;           /* registrations, contacts, the outbox */
	struct legacy *legacy;             /* the legacy accounts */
	const struct regform *form;        /* the protocol's registration form */
	const char *jid;                   /* the transport domain */
	struct address *address;           /* address.c */
	struct logins *logins;             /* logins.c */
	struct sessions *sessions;         /* session.c */
	struct roster *roster;             /* roster.c */
	struct registration *registration; /* registration.c */
	struct content *content;           /* content.c */
	char *contact_caps;                /* contacts.c: XEP-0115 ver of contacts' full JIDs */
	struct muc_list *muc_list;         /* muc_disco.c: the room list */
	struct cmds *cmds;                 /* cmd.c: the commands (cmd.h) */
	struct adhoc *adhoc;               /* adhoc.c: XEP-0050 */
	struct chatbot *chatbot;           /* chatbot.c: chat to the transport */
	struct prompts *prompts;           /* prompts.c: open libpurple prompts (prompts.h) */
};

/* gateway.c: the modules of GW (for unit tests that drive one module). */
const struct gateway_ctx *gateway_context(const struct gateway *gw);

/* ---- out.c ---------------------------------------------------------------------- */

/* A <presence/> from FROM (NULL: the transport) to TO, of TYPE (NULL:
 * available), to complete and send. Caller owns it. */
struct stanza *out_presence_new(struct router *router, const char *from, const char *to,
                                const char *type);
/* The same presence, sent at once. */
void out_presence(struct router *router, const char *from, const char *to, const char *type);
/* A presence from FULL (a contact's or the transport's full JID) to TO, of
 * TYPE, to complete. The first of a run (*CLEARED false, then set) is
 * preceded by one unavailable from BARE to the user's bare JID USER:
 * presence came from bare JIDs before. Caller owns it. */
struct stanza *out_full_presence_new(struct router *router, bool *cleared, const char *bare,
                                     const char *full, const char *user, const char *to,
                                     const char *type);
/* A subscription request from FROM (NULL: the transport) to TO, with the
 * name to show (XEP-0172 nick) and a STATUS text, each NULL or "" for
 * none. */
void out_subscribe(struct router *router, const char *from, const char *to, const char *nick,
                   const char *status);
/* A type='chat' <message/> from FROM to TO, to complete. Caller owns it. */
struct stanza *out_chat_new(const char *from, const char *to);
/* A chat message from the transport to BARE_JID, e.g. a notice. */
void out_tell_user(struct router *router, const char *bare_jid, const char *text);
/* A message error (a bounce) from FROM (NULL: the transport) to TO,
 * echoing ID and BODY (both may be NULL), with CONDITION and a readable
 * WHY. */
void out_message_error(struct router *router, const char *from, const char *to, const char *id,
                       const char *body, const char *condition, const char *why);

/* ---- address.c ------------------------------------------------------------------ */

enum address_kind {
	ADDRESS_TRANSPORT,          /* the transport's domain itself */
	ADDRESS_TRANSPORT_RESOURCE, /* a full JID of the transport (domain/resource) */
	ADDRESS_CONTACT,            /* a legacy contact's bare JID (localpart@domain) */
	ADDRESS_CONTACT_RESOURCE,   /* a full JID of a legacy contact */
	ADDRESS_ROOM,               /* a group chat (room) JID (localpart@domain) */
	ADDRESS_ROOM_OCCUPANT,      /* a room's occupant JID (room@domain/nick) */
	ADDRESS_OTHER,              /* not at the transport's domain */
};

/* STORAGE keeps the marked addresses (may be NULL: not kept), ROUTER
 * sends the notices, PROTOCOL_NAME ("IRC") names the network in them. */
struct address *address_new(const struct settings *settings, struct storage *storage,
                            struct router *router, const char *protocol_name);
void address_free(struct address *address);

/* What TO is, as an address at the transport, for USER (the sender's bare
 * JID, NULL when unknown: rooms seen for a user are then contacts). */
enum address_kind address_classify(const struct address *address, const struct jid *to,
                                   const char *user);
/* Whether legacy name NAME is a room for USER (the table in address.c). */
bool address_is_room_name(const struct address *address, const char *user, const char *name);
/* Whether USER is in room NAME now (the sessions' rooms): such a name is
 * a room whatever was noted. */
typedef bool (*address_has_room_fn)(void *data, const char *user, const char *name);
void address_set_room_check(struct address *address, address_has_room_fn has_room, void *data);
/* true when rooms are told by their name alone (IRC): nothing is noted. */
bool address_rooms_by_prefix(const struct address *address);
/* USER has seen NAME as a room in this run (a join, a room list, a
 * probe; not a legacy invitation, which anyone may send): from now on its
 * JID is a room's for USER (at most 4096 names per user). */
void address_note_room(struct address *address, const char *user, const char *name);

/* The contact JID of legacy name NAME (one JID for one name: address.c):
 * its XEP-0106-escaped form at the transport when the server's folding
 * leaves that alone, else its folded form with a stable mark
 * ("alice~2bd806c9"), kept in storage; NULL when no localpart can carry
 * it (empty, a control character, spaces at an end). Caller frees. */
char *address_contact_jid(const struct address *address, const char *name);
/* As address_contact_jid(), and a marked JID is told to USER (a bare JID)
 * in a chat message from the transport, once per name and run. */
char *address_contact_jid_for(struct address *address, const char *user, const char *name);
/* The transport's full JID (domain/GATEWAY_RESOURCE). Borrowed. */
const char *address_transport_full(const struct address *address);
/* BARE/GATEWAY_RESOURCE. Caller frees. */
char *address_full(const char *bare);

/* The legacy name a contact localpart stands for: a marked one's from
 * storage, else XEP-0106 unescaped; NULL when it stands for none (empty,
 * unknown, or the plain form of a name that has a marked address).
 * Caller frees. */
char *address_legacy_name(const struct address *address, const char *localpart);
/* The key contacts are looked up by: servers case-fold localparts, so a
 * contact is found by any spelling of its escaped localpart. Caller frees. */
char *address_local_key(const char *localpart);
/* Whether the network gave GIVEN for WANTED by cutting it to its length
 * limit (a leading part, without case), not because WANTED is taken
 * (libpurple's fallback then changes or adds characters). */
bool address_name_shortened(const char *wanted, const char *given);

/* true when USER (a parsed JID) may use the transport: it is a user's JID
 * (with a localpart) on one of [access] allowed_domains. */
bool address_may_use(const struct address *address, const struct jid *user);
/* The sender of STANZA, parsed; NULL (logged) when missing or invalid.
 * Caller frees. */
struct jid *address_sender(const struct stanza *stanza);
/* Whether FROM, STANZA's sender, may use the transport; if not, STANZA
 * is answered with 'forbidden' (never an error to an error). */
/* Whether an error reply to BARE, a stranger (another domain, or not
 * registered), may go now: a token bucket per sender and one for all;
 * beyond them the stanza is dropped with a rate-limited log line. */
bool address_may_answer_stranger(const struct address *address, const char *bare);
bool address_admit(const struct address *address, struct router *router,
                   const struct stanza *stanza, const struct jid *from);
/* The sender of STANZA, parsed, when it may use the transport (the two
 * above). Otherwise NULL: a refused domain answered, a missing or invalid
 * sender ignored. Caller frees. */
struct jid *address_check_sender(const struct address *address, struct router *router,
                                 const struct stanza *stanza);

/* ---- logins.c ------------------------------------------------------------------- */

struct logins_callbacks {
	/* The paced login of BARE_JID may start now. */
	void (*ready)(void *data, const char *bare_jid);
	/* The paced check login of BARE_JID's registration may start now. */
	void (*check_ready)(void *data, const char *bare_jid);
	/* A message BARE_JID's kept login held, replayed as it expires. */
	void (*held_message)(void *data, const char *bare_jid,
	                     const struct worker_msg_im_received *msg);
	/* A notice of the kept login, as it expires (e.g. held messages lost). */
	void (*held_notice)(void *data, const char *bare_jid, const struct worker_msg_notice *msg);
};

/* Paces legacy logins ([workers] login_rate, login_burst) and keeps
 * checked registration logins. LEGACY is borrowed. */
struct logins *logins_new(struct legacy *legacy, guint rate, guint burst, guint kept_ms,
                          const struct logins_callbacks *callbacks, void *data);
/* Kept logins are forgotten, not logged out (the legacy side is stopping). */
void logins_free(struct logins *logins);

/* true when BARE_JID may log in now (a token taken); false when it waits
 * in line: ready() is called when its turn comes. */
bool logins_admit(struct logins *logins, const char *bare_jid);
/* BARE_JID leaves the line. */
void logins_cancel(struct logins *logins, const char *bare_jid);
guint logins_waiting(const struct logins *logins);
/* The same for a registration's check login, in the first lane: it goes
 * before the sessions' logins; check_ready() is called when it may. */
bool logins_admit_check(struct logins *logins, const char *bare_jid);
/* BARE_JID's check leaves the line. */
void logins_cancel_check(struct logins *logins, const char *bare_jid);

/* Keeps ACCOUNT, a checked login of BARE_JID signed on as NICK, for the
 * session that normally starts a moment later; logged out if none takes
 * it within a minute. An earlier kept login of BARE_JID is logged out. */
void logins_keep(struct logins *logins, guint32 account, const char *bare_jid, const char *nick);
/* Takes the kept login of BARE_JID: sets *ACCOUNT and *NICK (caller frees)
 * and returns true, or false when there is none. */
bool logins_take_kept(struct logins *logins, const char *bare_jid, guint32 *account, char **nick);
/* true when ACCOUNT is a kept login. */
bool logins_owns(const struct logins *logins, guint32 account);
/* The nick of BARE_JID's kept login, or NULL if there is none. Borrowed. */
const char *logins_kept_nick(const struct logins *logins, const char *bare_jid);
/* An event for a kept login: a disconnect ends it. */
void logins_on_event(struct logins *logins, guint32 account, const struct legacy_event *event);
/* A kept login's worker died. */
void logins_on_lost(struct logins *logins, guint32 account);

/* ---- registration.c -------------------------------------------------------------- */

/* Registers the jabber:iq:register and jabber:iq:gateway handlers and
 * their disco features. */
struct registration *registration_new(const struct gateway_ctx *ctx);
/* Answers registrations still being checked with service-unavailable and
 * forgets them (their test logins end with the legacy side). */
void registration_cancel_all(struct registration *registration);
/* The same, then frees. NULL is a no-op. */
void registration_free(struct registration *registration);
/* true when ACCOUNT is a registration's test login under way. */
bool registration_owns(const struct registration *registration, guint32 account);
/* A certificate the user always accepts, PIN ("host port sha256"), asked
 * by ACCOUNT: when ACCOUNT is a registration's test login, the pin goes
 * into the settings that registration stores (the user may not be stored
 * yet, and storing it apart would be overwritten); true then. */
bool registration_take_pin(struct registration *registration, guint32 account, const char *pin);
void registration_on_event(struct registration *registration, guint32 account,
                           const struct legacy_event *event);
void registration_on_lost(struct registration *registration, guint32 account);
/* The check login of BARE_JID's registration may start (the pacer's
 * turn). */
void registration_login_ready(struct registration *registration, const char *bare_jid);

/* CONTRACT (C1 implements; B1 and C2 use). How a registration's outcome
 * reaches whoever asked for it: the XEP-0077 iq, the register command
 * (cmds_account.c), the changed-password prompt (status.c). */
struct prompt;
struct registration_requester {
	/* The check login raised prompt P: true when the requester shows it
	 * (the register run's next stage); false hands it to the chat bot. */
	bool (*prompt)(void *data, struct prompt *p);
	/* The check ended: OK (stored; NICK the name it signed on as), else an
	 * XMPP error CONDITION and a TEXT for the user. The requester is
	 * forgotten after it. */
	void (*done)(void *data, bool ok, const char *nick, const char *condition,
	             const char *text);
};
/* Checks SETTINGS (borrowed, copied) and PASSWORD (copied; NULL: the
 * stored one) for BARE_JID with a test login (paced, rate-limited as the
 * iq path is), stores them when it signs on and keeps its login for the
 * session, then REQ->done(DATA, ...). false when it cannot start (a check
 * already under way, the rate): *CONDITION (static) and *TEXT (caller
 * frees) for the user. */
bool registration_check(struct registration *registration, const char *bare_jid,
                        GHashTable *settings, const char *password,
                        const struct registration_requester *req, void *data,
                        const char **condition, char **text);
/* The requester DATA of BARE_JID's check goes away (its run ended): the
 * check is stopped and its login ended; REQ->done is not called. */
void registration_abandon(struct registration *registration, const char *bare_jid, void *data);
/* Unregisters BARE_JID as <remove/> does (messages answered, contacts
 * taken out, credentials wiped), then DONE(DATA, ok, text). */
void registration_unregister(struct registration *registration, const char *bare_jid,
                             void (*done)(void *data, bool ok, const char *text), void *data);
/* Whether BARE_JID is registered; *SETTINGS (may be NULL) gets the
 * stored settings (caller unrefs). A storage error is logged: false. */
bool registration_is_registered(const struct gateway_ctx *ctx, const char *bare_jid,
                                GHashTable **settings);
/* The context REGISTRATION was made with (unregistration.c implements
 * registration_unregister() with it). */
const struct gateway_ctx *registration_ctx(const struct registration *registration);
/* The user whose check login ACCOUNT is, or NULL. Borrowed. */
const char *registration_account_user(const struct registration *registration, guint32 account);
/* logins.c: the user whose kept login ACCOUNT is, or NULL. Borrowed. */
const char *logins_account_user(const struct logins *logins, guint32 account);

/* ---- resources.c ----------------------------------------------------------------- */

struct resources;
struct resources *resources_new(void);
void resources_free(struct resources *resources);
/* RESOURCE is available with presence P (priority, show, status). */
void resources_update(struct resources *resources, const char *resource, const struct stanza *p);
void resources_remove(struct resources *resources, const char *resource);
bool resources_has(const struct resources *resources, const char *resource);
bool resources_any(const struct resources *resources);
/* The status of the resource that sets the legacy one (the highest
 * priority, the newest on ties) into STATUS (WORKER_STATUS_*) and MESSAGE
 * ("" for none; borrowed until the next change); false when none is
 * available. */
bool resources_best(const struct resources *resources, guint32 *status, const char **message);

/* ---- session.c, session_end.c ---------------------------------------------------- */

enum session_state {
	SESSION_OFFLINE,      /* not logged in, and not trying */
	SESSION_CONNECTING,   /* a login is under way (or waiting for its turn) */
	SESSION_ONLINE,       /* signed on */
	SESSION_RECONNECTING, /* lost; the next login is scheduled */
	SESSION_FAILED,       /* a fatal error (wrong password...): no retries */
};

struct sessions *sessions_new(const struct gateway_ctx *ctx);
/* Frees every session: each logs out through the legacy side. */
void sessions_free(struct sessions *sessions);
/* The session of BARE_JID, created when CREATE and the user is registered;
 * NULL otherwise. */
struct session *sessions_get(struct sessions *sessions, const char *bare_jid, bool create);
/* The session whose legacy account is ACCOUNT, or NULL. */
struct session *sessions_by_account(struct sessions *sessions, guint32 account);
/* Frees the session of BARE_JID (logging its account out), if any. */
void sessions_remove(struct sessions *sessions, const char *bare_jid);
/* The login pacer's turn for BARE_JID (logins_callbacks.ready). */
void sessions_login_ready(struct sessions *sessions, const char *bare_jid);

const struct gateway_ctx *session_ctx(const struct session *s);
/* The user's bare JID. Borrowed. */
const char *session_jid(const struct session *s);
enum session_state session_state(const struct session *s);
/* The legacy account id, 0 when none. */
guint32 session_account(const struct session *s);
/* Why the last login failed, for the user, or NULL. Borrowed. */
const char *session_failure(const struct session *s);
/* The name the legacy network gave the session when it signed on ("bob1"),
 * NULL while not signed on. Borrowed. */
const char *session_nick(const struct session *s);
struct contacts *session_contacts(struct session *s);
struct messages *session_messages(struct session *s);
struct rooms *session_rooms(struct session *s);
/* true when at least one of the user's resources is available. */
bool session_user_available(const struct session *s);

/* A presence from one of the user's resources to the transport. */
void session_on_user_presence(struct session *s, const char *resource, bool available,
                              const struct stanza *presence);
/* Starts the legacy login (state CONNECTING): with the registration's kept
 * login, now, or when the login pacer lets it through. */
void session_login(struct session *s);
/* session_login() after a logout of the current login, starting once the
 * old connection is gone (its DISCONNECTED, at most 8 s): the relogin
 * command, so that IRC gives the same nick back. */
void session_relogin(struct session *s);
/* Logs out of the legacy network and tells the user (OFFLINE). */
void session_logout(struct session *s, const char *why);
/* Logs out for good (the user unregistered, or a drain ran out of time):
 * messages still queued in the worker are cancelled, every message not
 * sent is answered with WHY and how much of it went, then DONE(DATA) runs
 * (at once, or once the worker has answered, within 10 s; it may free the
 * session); FREE_DATA(DATA) after it, or instead of it if the session goes
 * first. DONE NULL (a drain): a user available again by then logs in
 * again. */
void session_unregister(struct session *s, const char *why, void (*done)(void *data), void *data,
                        GDestroyNotify free_data);
/* true while an unregistration waits (session_unregister). */
bool session_leaving(const struct session *s);
/* Its reason, NULL when none waits. */
const char *session_leaving_why(const struct session *s);
/* Nothing is in flight any more (messages.c): a session kept for its
 * messages after the user left logs out now. */
void session_drained(struct session *s);
/* true when FULL_JID is one of the user's available resources. */
bool session_resource_available(const struct session *s, const char *full_jid);
/* An event for this session's account. */
void session_on_event(struct session *s, const struct legacy_event *event);
/* The worker hosting this session died. */
void session_on_lost(struct session *s);
/* The account has not read from its network for longer than the stall
 * bound (legacy.h, backpressure): logged out with a notice to the user. */
void session_on_stalled(struct session *s, enum legacy_stall why);
/* status.c: sends the transport's presence (reflecting the legacy state)
 * to TO (NULL: the user's bare JID). */
void session_send_transport_presence(struct session *s, const char *to);
/* status.c: tells the user why the login failed for good (WORKER_REASON_*
 * REASON, TEXT): a presence error from the transport and a chat message. */
void session_report_failure(struct session *s, guint32 reason, const char *text);
/* The session's flag for out_full_presence_new() (the transport's). */
bool *session_bare_cleared(struct session *s);
/* session.c (the status and admin commands): how the current login's
 * legacy link is protected (LINK_INFO); forgotten when the login ends. */
struct session_link {
	bool encrypted;
	char *subject, *issuer, *sha256; /* the server certificate's ("" unknown) */
	guint32 trust;                   /* WORKER_TRUST_* */
};
/* S's, or NULL when its login reported none (or there is no login). */
const struct session_link *session_link(const struct session *s);
/* Every session, by bare JID (the array is the caller's, the sessions
 * are not). */
GPtrArray *sessions_list(const struct sessions *sessions);
/* Logins that ended before they signed on, since the start. */
guint64 sessions_login_failures(const struct sessions *sessions);

/* session.c and session_end.c are one module in two files: struct session's
 * fields and the functions below are theirs alone (every other module uses
 * the functions above). */
struct session {
	struct sessions *sessions;
	const struct gateway_ctx *ctx;
	char *jid; /* the user's bare JID */
	enum session_state state;
	struct resources *resources; /* the user's available resources (resources.c) */
	guint32 account;             /* legacy account id, 0 when none */
	/* the account last logged out, while the legacy side still reports on
	 * its messages (until its DISCONNECTED, LOGOUT): still in by_account */
	guint32 left_account;
	char *nick; /* our name on the legacy network once signed on */
	struct contacts *contacts;
	struct messages *messages;
	struct rooms *rooms;
	guint retry_timer;
	guint left_wait;     /* a login waiting for LEFT_ACCOUNT to be gone (session.c), 0 none */
	guint attempts;      /* consecutive failed logins */
	char *failure;       /* why the last login failed, for the user */
	guint32 sent_status; /* last status sent to the legacy side */
	char *sent_message;
	bool paced;        /* waiting in the login pacer for its turn */
	bool forgetting;   /* inside session_forget_account(): a loss there is no news */
	bool bare_cleared; /* the transport's unavailable from its bare JID was sent (status.c) */
	struct session_link *link; /* session.c: the login's LINK_INFO (NULL: none yet) */

	/* the user left with messages in flight: still logged in (see session_start_drain) */
	bool draining;
	guint drain_timer; /* ends the drain: its deadline, or at once once drained */

	/* an unregistration waiting for the worker's last word (session_unregister) */
	bool leaving;
	char *leaving_why;
	void (*leaving_done)(void *data);
	void *leaving_data;
	GDestroyNotify leaving_free;
	guint leaving_timer;
};

/* session.c: logs the account out (its last acknowledgements still reach
 * the session) and lets it go. */
void session_forget_account(struct session *s);
/* session.c: RECONNECTING, the next login in DELAY_MS. */
void session_schedule_retry(struct session *s, guint delay_ms);
/* session_end.c: the user left with messages in flight: the login stays
 * until they are sent (or the outbox expiry). */
void session_start_drain(struct session *s);
/* session_end.c: the drain ends (the user is back, or a logout). */
void session_stop_drain(struct session *s);
/* session_end.c: the connection went during a drain (WHAT says how): each
 * message is answered now with how much of it went. */
void session_drain_cut(struct session *s, const char *what);
/* session_end.c: the account's worker died twice with its messages in
 * flight (TEXT says so): they are answered, the session fails. */
void session_quarantine(struct session *s, const char *text);

/* ---- contacts.c ------------------------------------------------------------------ */

/* A session's contacts (owned by the session). */
struct contacts *contacts_new(struct session *s);
void contacts_free(struct contacts *contacts);
/* Registers the disco#info and #items answers of contact JIDs. */
void contacts_register_disco(const struct gateway_ctx *ctx);

/* Loads the stored buddies once. */
void contacts_load(struct session *s);
/* The contact for LEGACY_NAME, created (not as a buddy) when CREATE. */
struct contact *contact_get(struct session *s, const char *legacy_name, bool create);
/* The contact addressed by LOCALPART (escaped, any case); when unknown, a
 * transient contact for the unescaped name. NULL if LOCALPART stands for
 * no name. */
struct contact *contact_by_local(struct session *s, const char *localpart);

/* The contact's JID (NULL when its name cannot be a localpart), legacy
 * spelling, the name the roster shows (alias, else legacy name). Borrowed. */
const char *contact_jid(const struct contact *c);
const char *contact_legacy_name(const struct contact *c);
/* contact_jid()/GATEWAY_RESOURCE, which presence and messages come from
 * (NULL with contact_jid()). Borrowed. */
const char *contact_full_jid(const struct contact *c);
const char *contact_display_name(const struct contact *c);
/* true while C is a buddy: on the legacy contact list, and stored. */
bool contact_is_buddy(const struct contact *c);
/* enum storage_contact_flags */
guint contact_flags(const struct contact *c);
/* C's status as its presence shows it (WORKER_STATUS_*), its text in
 * *TEXT (borrowed, may be NULL): for the contacts command. */
guint32 contact_status(const struct contact *c, const char **text);
void contact_set_flags(struct contact *c, guint flags);
/* Writes C (a buddy) with its flags to storage. */
void contact_store(struct session *s, struct contact *c);

/* The XEP-0115 ver of what contacts' full JIDs answer to disco#info (the
 * same for the whole run: computed once, into ctx->contact_caps). Caller
 * frees. */
char *contacts_caps_ver(const struct gateway_ctx *ctx);
/* Sends C's presence to TO (NULL: the user's bare JID), from its full JID
 * (the first time in this run preceded by an unavailable from the bare
 * JID, which older versions used). */
void contact_send_presence(struct session *s, struct contact *c, const char *to);
/* Every contact's presence goes unavailable (session down). */
void contacts_all_offline(struct session *s);
/* Adds the stored buddies on the legacy side after sign-on. */
void contacts_push_buddies(struct session *s);
/* A presence from the user to contact C (subscribe, probe, ...). */
void contacts_on_user_presence(struct session *s, struct contact *c, const struct stanza *p);
/* The user unregistered: take every contact out of the roster. */
void contacts_remove_all(struct session *s);

/* Legacy events (DATA: the session). */
void contacts_on_buddy_status(void *session, const struct worker_msg_buddy_status *msg);
void contacts_on_buddy_removed(void *session, const struct worker_msg_buddy_removed *msg);
void contacts_on_auth_request(void *session, const struct worker_msg_auth_request *msg);
/* The legacy network said a contact is away (an automatic reply, such as
 * IRC's 301): away with that text until the contact stirs. */
void contacts_on_buddy_away(void *session, const struct worker_msg_buddy_away *msg);
/* A sign of life from LEGACY_NAME (a message, typing): an away text
 * learned from an automatic reply ends. */
void contacts_on_activity(struct session *s, const char *legacy_name);
/* The user's message SEQ to LEGACY_NAME is handed to the legacy side. While
 * the contact shows away from an automatic reply, the first such message
 * tests it: networks answer every message to an away user (IRC's 301,
 * before the fence that confirms the message). */
void contacts_on_sending(struct session *s, const char *legacy_name, guint32 seq);
/* Message SEQ to LEGACY_NAME went (confirmed). If it tested an away and no
 * new automatic reply came before, the contact is back. */
void contacts_on_delivered(struct session *s, const char *legacy_name, guint32 seq);
/* LEGACY_NAME is not on the network (a message to it failed so): an away
 * learned from an automatic reply ends with it. */
void contacts_on_absent(struct session *s, const char *legacy_name);

/* ---- messages.c ------------------------------------------------------------------ */

/* A session's messages in flight (owned by the session). */
struct messages *messages_new(struct session *s);
void messages_free(struct messages *messages);

/* A message from the user to contact C. */
void messages_from_user(struct session *s, struct contact *c, const struct stanza *m);
/* Signed on: send what waits in the outbox. */
void messages_flush_outbox(struct session *s);
/* In-flight messages of a lost worker go back to the outbox. */
void messages_requeue_inflight(struct session *s);
/* The same, except the messages of account KEEP (0: none), logged out, whose
 * worker will still say what became of them: see messages_settle_left(). */
void messages_requeue_inflight_but(struct session *s, guint32 keep);
/* The logged-out ACCOUNT's DISCONNECTED came: its messages still in flight
 * did not go (what went was acknowledged before it) and are sent again --
 * at once (only the rest) while the session is online, else kept in the
 * outbox. */
void messages_settle_left(struct session *s, guint32 account);
/* Nothing can be delivered (a fatal failure, unregistration): every waiting
 * message (in flight or in the outbox) comes back to its sender as an error
 * with WHY. A plain logout does not bounce: messages wait for the next
 * login, and are bounced on it when older than the outbox limit. */
void messages_bounce_all(struct session *s, const char *why);

/* Legacy events (DATA: the session). */
void messages_on_im_received(void *session, const struct worker_msg_im_received *msg);
/* Notice M (title: text) to BARE_JID, from the transport. */
void messages_tell_notice(const struct gateway_ctx *ctx, const char *bare_jid,
                          const struct worker_msg_notice *m);
/* MSG, which arrived for BARE_JID's kept login while no session was there
 * to take it, to BARE_JID (servers keep it offline), delay-stamped. */
void messages_deliver_held(const struct gateway_ctx *ctx, const char *bare_jid,
                           const struct worker_msg_im_received *msg);
void messages_on_im_result(void *session, const struct worker_msg_im_result *msg);
void messages_on_ims_sent(void *session, const struct worker_msg_ims_sent *msg);
void messages_on_im_queued(void *session, const struct worker_msg_im_queued *msg);
void messages_on_im_progress(void *session, const struct worker_msg_im_progress *msg);
/* The next sequence number of the account's SEND_IM and SEND_CHAT. */
guint32 messages_next_seq(struct session *s);
/* true while messages are in flight (handed to the legacy side, not yet
 * reported sent or failed). */
bool messages_pending(struct session *s);
/* Reports every message in flight as not delivered (WHY, with how much
 * went) and forgets them: for an unregistration or a drain that ran out of
 * time, after the logout (which reads the worker's last progress). */
void messages_fail_inflight(struct session *s, const char *why);
void messages_on_typing(void *session, const struct worker_msg_typing *msg);
void messages_on_notice(void *session, const struct worker_msg_notice *msg);

/* ---- rooms.c, muc.c, muc_disco.c: group chats (XEP-0045 rooms) ------------------- */

#define NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define NS_CONFERENCE "jabber:x:conference" /* XEP-0249 */
#define NS_SID "urn:xmpp:sid:0"             /* XEP-0359 */
/* The gateway's own bound on a join is settings' room_join_ms (35 s: the
 * worker answers within 30 s); a reflection waits room_echo_wait_ms (10 s)
 * for the worker's echo once the network took the message (IMS_SENT),
 * then goes anyway. */

enum room_state {
	ROOM_JOINING,   /* JOIN_CHAT sent (or waiting for the login), no answer yet */
	ROOM_JOINED,    /* in the room */
	ROOM_REJOINING, /* joined on the XMPP side, JOIN_CHAT sent again after a loss */
};

struct occupant {
	char *nick;
	guint32 flags; /* WORKER_CHAT_FLAG_* */
	char *pm;      /* the legacy name a private message goes to */
};

/* A resource's join not answered yet. */
struct room_join {
	char *full; /* the user's full JID */
	char *id;   /* the join presence's id (NULL: none) */
	char *nick; /* the nick asked for */
};

struct rooms;

/* One room of a session (rooms.c and muc.c are one module in two files:
 * they alone touch these fields). */
struct room {
	struct rooms *rooms;
	char *name;            /* the legacy name, the network's spelling once joined */
	char *asked;           /* the name joined when the network spelled it otherwise */
	char *jid;             /* the room's bare JID, as the user addressed it */
	char *key;             /* the join's password, kept for rejoins ("" none) */
	char *nick;            /* ours, from CHAT_JOINED (NULL before) */
	char *topic;           /* "" none */
	char *topic_by;        /* the nick who set it (NULL: unknown), for the join's subject */
	GHashTable *occupants; /* folded nick -> struct occupant (owned) */
	GHashTable *by_pm;     /* muc.c: pm name -> folded nick (checked on use) */
	GHashTable *pm_routes; /* muc.c: folded pm name -> gint64 expiry (µs): the user's
	                        * PMs through this room, whose replies come back here */
	GHashTable *before;    /* while REJOINING: the occupants before the loss */
	GHashTable *joined;    /* the user's joined full JIDs (a set, owned keys) */
	GPtrArray *pending;    /* struct room_join, oldest first */
	enum room_state state;
	guint timer; /* the join's bound */
	/* the last subject change and nick change asked, for a refusal */
	char *subject_from, *subject_id;
	char *nick_from, *nick_id, *nick_new;
	guint subject_timer, nick_timer; /* muc.c: no answer in room_join_ms */
};

/* rooms.c: WHO ("" or NULL: unknown; IRC's nick!user@host: the nick) set
 * R's topic; the join's subject then comes from WHO's occupant JID, so
 * clients show who set it. */
void room_set_topic_by(struct room *r, const char *who);
/* rooms.c: a session's rooms (owned by the session). */
struct rooms *rooms_new(struct session *s);
/* Ferry stops (CODE "332") or the session ends ("333": the legacy side
 * is gone for good): unavailable self-presence with 110 and CODE to every
 * joined resource, and every room forgotten. */
void rooms_end_all(struct session *s, const char *code);
void rooms_free(struct rooms *rooms);
/* The room named NAME (any spelling), or NULL. */
struct room *rooms_find(struct session *s, const char *name);
/* A new room NAME at JID (the user's spelling) with KEY; NULL when the
 * user is in max_rooms rooms already. */
struct room *rooms_add(struct session *s, const char *name, const char *jid, const char *key);
/* Forgets R (no stanza sent). */
void rooms_remove(struct room *r);
/* A LEAVE_CHAT of NAME went: the PART answering it (within 60 s) is
 * ignored, not taken for the end of a room joined again since. */
void rooms_note_leaving(struct session *s, const char *name);
guint rooms_count(struct session *s);
/* Every room of S (the list is the caller's, the rooms are not). */
GList *rooms_list(struct session *s);
/* The session R belongs to. */
struct session *room_session(const struct room *r);
/* true when NICK is ours in R. */
bool room_is_us(const struct room *r, const char *nick);
/* muc_out.c: a presence from occupant NICK to TO of TYPE (NULL:
 * available) with its muc#user item for FLAGS; *X and *ITEM are set to
 * its <x/> and <item/> for status codes and more. Caller owns it. */
struct stanza *muc_occupant_presence(const struct room *r, const char *nick, const char *to,
                                     const char *type, guint32 flags, struct stanza **x,
                                     struct stanza **item);
/* <status code=CODE/> into X. */
void muc_add_status(struct stanza *x, const char *code);
/* Occupant NICK's presence with FLAGS to every joined resource; SELF
 * (it is us) adds 110. */
void muc_broadcast_occupant(struct room *r, const char *nick, guint32 flags, bool self);
/* Occupant NICK gone (HOW, ACTOR, REASON: kicks get 307), or renamed to
 * NEW_NICK (303), to every joined resource; SELF adds 110. */
void muc_broadcast_gone(struct room *r, const char *nick, guint32 flags, guint32 how,
                        const char *actor, const char *reason, const char *new_nick, bool self);
/* R's subject to TO, from WHO's occupant JID (the room's when "" or NULL). */
void muc_send_subject(struct room *r, const char *to, const char *who);
/* Sends R's JOIN_CHAT (now when signed on; else at sign-on). */
void rooms_send_join(struct room *r, const char *nick);
/* The whole join answer to FULL: occupants, self-presence with 110 (+210
 * when ASKED, the nick asked for, differs) echoing ID, the subject. */
void rooms_send_state(struct room *r, const char *full, const char *id, const char *asked);
/* Self-presence of type unavailable to FULL with status codes CODES
 * (NULL-ended), and optional ACTOR and REASON. */
void rooms_send_self_gone(struct room *r, const char *full, const char *const *codes,
                          const char *actor, const char *reason);
/* The occupant's JID, room/nick. Caller frees. */
char *room_occupant_jid(const struct room *r, const char *nick);
const struct occupant *room_occupant(const struct room *r, const char *nick);
/* The text of libpurple's HTML for a room's message (XEP-0393 styled). */
char *rooms_text(const char *html);
/* A groupchat message from occupant NICK (the room itself when "") with
 * TEXT to every joined resource; ID and ORIGIN_ID (a reflection's), WHEN
 * (0: now) for a delay stamp. */
void rooms_broadcast_message(struct room *r, const char *nick, const char *text, const char *id,
                             const char *origin_id, gint64 when);
/* room_echoes.c: what the user said in S's rooms, until reflected. */
struct room_echoes;
struct room_echoes *room_echoes_new(struct session *s);
void room_echoes_free(struct room_echoes *echoes);
struct room_echoes *rooms_echoes(struct session *s);
/* A groupchat message from FULL (joined) with ID, ORIGIN_ID and TEXT: sent
 * as SEND_CHAT; the reflection follows the echo. false when it could not
 * go (answered). */
bool rooms_say(struct room *r, const struct stanza *m, const char *full, const char *text);
/* Whether any of S's room messages is not taken by the network yet
 * (IMS_SENT): messages_pending() counts them. */
bool room_echoes_unconfirmed(struct session *s);
/* The echo (CHAT_MESSAGE) of SEQ from ACCOUNT: reflected once. */
void room_echoes_on_echo(struct session *s, guint32 account, guint32 seq);
/* ACCOUNT (0: any) is gone: each message not taken yet comes back with
 * WHY (remote-server-timeout), never sent again nor reflected. */
void room_echoes_fail(struct session *s, guint32 account, const char *why);
/* Legacy side back (CONNECTED): pending joins go, joined rooms are joined
 * again with their keys. */
void rooms_on_signed_on(struct session *s);
/* A chat message's failure: true when SEQ was a room's (answered). */
bool rooms_on_im_result(struct session *s, const struct worker_msg_im_result *m);
void rooms_on_ims_sent(struct session *s, guint32 account, guint32 through);
void rooms_on_chat_joined(void *session, const struct worker_msg_chat_joined *m);
void rooms_on_chat_join_failed(void *session, const struct worker_msg_chat_join_failed *m);
void rooms_on_chat_occupant(void *session, const struct worker_msg_chat_occupant *m);
void rooms_on_chat_occupant_left(void *session, const struct worker_msg_chat_occupant_left *m);
void rooms_on_chat_renamed(void *session, const struct worker_msg_chat_renamed *m);
void rooms_on_chat_message(void *session, const struct worker_msg_chat_message *m);
void rooms_on_chat_topic(void *session, const struct worker_msg_chat_topic *m);
void rooms_on_chat_left(void *session, const struct worker_msg_chat_left *m);
void rooms_on_chat_invited(void *session, const struct worker_msg_chat_invited *m);
void rooms_on_chat_error(void *session, const struct worker_msg_chat_error *m);

/* muc.c: stanzas from the user FROM (registered: session S) to room or
 * occupant TO. */
void muc_on_presence(struct session *s, const struct stanza *p, const struct jid *from,
                     const struct jid *to);
void muc_on_message(struct session *s, const struct stanza *m, const struct jid *from,
                    const struct jid *to);
/* An IM from a room's occupant (prpl-jabber: its PM name room@server/nick):
 * sent from the occupant JID with <x muc#user/>; false when M is no
 * occupant's (a contact's IM). */
bool muc_on_private_message(struct session *s, const struct worker_msg_im_received *m);
/* The user wrote to legacy NAME at its contact JID: its replies go there
 * again, not to a room the user wrote to it through before. */
void muc_forget_pm_route(struct session *s, const char *name);
/* The nick change or subject change asked is answered (renamed, topic,
 * or the error): its record and timer go. */
void muc_nick_settled(struct room *r);
void muc_subject_settled(struct room *r);
/* Occupant O's pm name now leads to it (muc_on_private_message). */
void muc_index_pm(struct room *r, const struct occupant *o);
/* FULL (a full JID of the user) is gone: it leaves every room. */
void muc_resource_gone(struct session *s, const char *full);
/* muc_disco.c: disco of rooms and the room list (the transport's, cached),
 * self-ping, the affiliation lists. */
struct muc_list *muc_list_new(const struct gateway_ctx *ctx);
/* S's account is gone (logout, worker loss, the session's end): its room
 * list is dropped (requests waiting for it answered with what is there). */
void muc_list_session_ended(struct session *s);
void muc_list_free(struct muc_list *list);
/* A batch of the room list S's account was asked for (DATA: the session). */
void muc_on_room_list(void *session, const struct worker_msg_room_list *m);
/* The answer to a PROBE_ROOM (DATA: the session). */
void muc_on_room_info(void *session, const struct worker_msg_room_info *m);

/* ---- content.c ------------------------------------------------------------------ */

struct content *content_new(const struct gateway_ctx *ctx);
void content_free(struct content *content);
/* Judges a message from the user (session S) to a contact before it is
 * relayed: true when it goes on (text, chat states, metadata); false when
 * the legacy network cannot carry it (end-to-end encryption, a retraction,
 * a reaction or another payload without text), which was answered with an
 * error here and must not be sent. */
bool content_may_relay(struct session *s, const struct stanza *m);
/* The text to send for M (a message of S's user to TO, a contact or room
 * JID) with BODY instead of BODY, or NULL to send BODY as it is: a
 * correction (XEP-0308) goes marked as one, the user told once per contact
 * that it goes as a new message (and once that an attention request
 * cannot cross). Caller frees. */
char *content_text_to_send(struct session *s, const char *to, const struct stanza *m,
                           const char *body);
/* The text a body-less XEP-0444 reaction M (of S's user to TO) goes as
 * ("Reacted: " and its emoji), the user told once per contact; NULL when M
 * holds no reaction. Caller frees. */
char *content_reaction_text(struct session *s, const char *to, const struct stanza *m);
/* How an unregistered user registers, for error texts. Caller frees. */
char *content_how_to_register(const struct gateway_ctx *ctx);
/* A legacy contact offered S's user a file, which the worker declined: the
 * user is told by a chat from the transport (DATA: the session). */
void content_on_file_offered(void *session, const struct worker_msg_file_offered *m);

/* ---- roster.c -------------------------------------------------------------------- */

struct roster *roster_new(const struct gateway_ctx *ctx);
void roster_free(struct roster *roster);
/* A <message/> from the server granting XEP-0356 privileges; true if it was one. */
bool roster_on_privilege(struct roster *roster, const struct stanza *message);
/* Puts contact C into the user's roster: a privileged roster push, or one
 * subscription request (never repeated) when that is not possible. */
void roster_add(struct session *s, struct contact *c);
/* Takes C out of the roster (privileged push with subscription='remove'). */
void roster_remove(struct session *s, struct contact *c);
/* The status command's: the XEP-0356 version (2, 1) USER's server granted
 * roster access with, 0 for none; *PUSHING (may be NULL) whether pushes
 * are used (granted, and no push failed) rather than subscription
 * requests. */
guint roster_privilege(const struct roster *roster, const char *user, bool *pushing);
/* The user's presence of TYPE to contact C: a subscribe or subscribed
 * means C is in the roster (contacts.c calls it). */
void roster_on_user_presence(struct session *s, struct contact *c, const char *type);
/* How many of S's contacts are not in the roster as far as ferry knows
 * (never pushed, or asked and not accepted). */
guint roster_missing(struct session *s);
/* Puts those again: pushed when the server granted roster access (a grant
 * whose pushes failed is tried again; *PUSHED true), else asked again
 * with a subscription request each. Returns how many. */
guint roster_fix(struct session *s, bool *pushed);

#endif
