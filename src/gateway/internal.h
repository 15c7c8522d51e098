/* internal: the structures the files of src/gateway/ share. Nothing outside
 * src/gateway/ includes this; the rest of ferry sees include/ferry/gateway.h.
 *
 * gateway.c    wiring, access control, dispatch of stanzas and worker events
 * registration.c  jabber:iq:register (XEP-0077/0100) and jabber:iq:gateway
 * session.c    per-user state machine: resources, legacy login, retries
 * contacts.c   legacy buddies as XMPP contacts: presence, subscriptions
 * messages.c   messages and chat states both ways, the outbox, notices
 * roster.c     XEP-0356 roster pushes, or one subscription request each
 */
#ifndef FERRY_GATEWAY_INTERNAL_H
#define FERRY_GATEWAY_INTERNAL_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/gateway.h"
#include "ferry/pacer.h"
#include "ferry/regform.h"
#include "ferry/secrets.h"
#include "ferry/stanza.h"
#include "ferry/storage.h"
#include "ferry/worker_protocol.h"
#include "ferry/workers.h"

#define NS_REGISTER "jabber:iq:register"
#define NS_GATEWAY "jabber:iq:gateway"
#define NS_ROSTER "jabber:iq:roster"
#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define NS_DELAY "urn:xmpp:delay"

/* How long a registration's test login may take before the user is told. */
#define GATEWAY_TEST_LOGIN_SECONDS 45
/* How long an undelivered message may wait in the outbox for a reconnect. */
#define GATEWAY_OUTBOX_MAX_AGE_SECONDS (15 * 60)

struct roster;

struct gateway {
	const struct settings *settings;
	struct router *router;
	struct disco *disco;
	const char *jid; /* the transport domain (settings') */
	struct secrets *secrets;
	struct storage *storage;
	struct regform *form;
	struct workers *workers;
	struct roster *roster;
	GHashTable *sessions;     /* bare JID -> struct session * */
	GHashTable *accounts;     /* worker account id -> struct session * */
	GHashTable *pending_regs; /* worker account id -> struct pending_reg * */
	GHashTable *kept_logins;  /* worker account id -> struct kept_login *:
	                             checked registrations waiting to become
	                             the user's session */
	struct pacer *logins;     /* paces legacy logins ([workers] login_rate) */
	guint login_timer;        /* hands out the next paced login */
};

enum session_state {
	SESSION_OFFLINE,      /* not logged in, and not trying */
	SESSION_CONNECTING,   /* a login is under way */
	SESSION_ONLINE,       /* signed on */
	SESSION_RECONNECTING, /* lost; the next login is scheduled */
	SESSION_FAILED,       /* a fatal error (wrong password...): no retries */
};

struct resource {
	int priority;
	guint32 status; /* WORKER_STATUS_* */
	char *message;  /* status text, may be NULL */
	guint64 order;  /* arrival order, newest wins ties */
};

struct contact {
	char *legacy_name;    /* as the legacy network spells it */
	char *jid;            /* escaped localpart @ transport; NULL if not escapable */
	char *alias;          /* may be NULL */
	guint32 status;       /* WORKER_STATUS_* */
	char *message;        /* status text, may be NULL */
	guint flags;          /* enum storage_contact_flags */
	bool buddy;           /* on the legacy contact list (and stored) */
	guint32 auth_request; /* pending authorization request id, 0 if none */
};

struct session {
	struct gateway *gw;
	char *jid; /* the user's bare JID */
	enum session_state state;
	GHashTable *resources; /* resource -> struct resource *; available ones only */
	guint64 resource_order;
	guint32 account;      /* worker account id, 0 when none */
	char *nick;           /* our name on the legacy network once signed on */
	GHashTable *contacts; /* legacy name -> struct contact * */
	GHashTable *by_local; /* lower-case escaped localpart -> struct contact * */
	GHashTable *inflight; /* IM sequence number -> struct inflight * */
	guint32 next_seq;
	guint retry_timer;
	guint attempts;      /* consecutive failed logins */
	char *failure;       /* why the last login failed, for the user */
	guint32 sent_status; /* last status sent to the worker */
	char *sent_message;
	bool contacts_loaded;
	bool paced; /* waiting in gw->logins for its turn to log in */
};

/* ---- gateway.c ---------------------------------------------------------------- */

/* Sends STANZA (taking it) through the router. */
void gateway_send(struct gateway *gw, struct stanza *stanza);
/* A <presence/> from FROM (NULL: the transport) to TO, of TYPE (NULL:
 * available). Caller owns it. */
struct stanza *gateway_presence(struct gateway *gw, const char *from, const char *to,
                                const char *type);
/* A chat message from the transport to the user, e.g. a notice. */
void gateway_tell_user(struct gateway *gw, const char *bare_jid, const char *text);

/* ---- registration.c --------------------------------------------------------------- */

void registration_register(struct gateway *gw);
/* Events for a registration's test login (account not a session's). */
void registration_on_event(struct gateway *gw, guint32 account, guint32 type, GVariant *payload);
void registration_on_lost(struct gateway *gw, guint32 account);
void registration_free_all(struct gateway *gw);
/* true when ACCOUNT is a registration's (pending or kept) login. */
bool registration_owns(struct gateway *gw, guint32 account);
/* Takes over the checked login of a just registered BARE_JID, if one is
 * still up: sets *ACCOUNT and *NICK (caller frees) and returns true. */
bool registration_take_login(struct gateway *gw, const char *bare_jid, guint32 *account,
                             char **nick);

/* ---- session.c --------------------------------------------------------------------- */

/* The session of BARE_JID, created when CREATE and the user is registered;
 * NULL otherwise. */
struct session *session_get(struct gateway *gw, const char *bare_jid, bool create);
void session_free(gpointer session);
/* A presence from one of the user's resources to the transport. */
void session_on_user_presence(struct session *s, const char *resource, bool available,
                              const struct stanza *presence);
/* Starts the legacy login (state CONNECTING): now, or when the login pacer
 * lets it through. */
void session_login(struct session *s);
/* A registration's test login is starting now: it counts against the pace. */
void session_charge_login(struct gateway *gw);
/* Logs out of the legacy network and tells the user (OFFLINE). */
void session_logout(struct session *s, const char *why);
/* Worker events for this session's account. */
void session_on_event(struct session *s, guint32 type, GVariant *payload);
/* The worker hosting this session died. */
void session_on_lost(struct session *s);
/* Sends the transport's presence (reflecting the legacy state) to TO (NULL:
 * the user's bare JID). */
void session_send_transport_presence(struct session *s, const char *to);
/* true when at least one resource is available. */
bool session_user_available(const struct session *s);

/* ---- contacts.c ---------------------------------------------------------------------- */

void contacts_load(struct session *s);
/* The contact for LEGACY_NAME, created (not as a buddy) when CREATE. */
struct contact *contact_get(struct session *s, const char *legacy_name, bool create);
/* The contact addressed by LOCALPART (escaped, any case); when unknown, a
 * transient contact for the unescaped name. NULL if LOCALPART is invalid. */
struct contact *contact_by_local(struct session *s, const char *localpart);
void contact_free(gpointer contact);
void contacts_on_buddy_status(struct session *s, GVariant *payload);
void contacts_on_buddy_removed(struct session *s, GVariant *payload);
void contacts_on_auth_request(struct session *s, GVariant *payload);
/* Sends C's presence to TO (NULL: the user's bare JID). */
void contact_send_presence(struct session *s, struct contact *c, const char *to);
/* Every contact's presence goes unavailable (session down). */
void contacts_all_offline(struct session *s);
/* Adds the stored buddies on the legacy side after sign-on. */
void contacts_push_buddies(struct session *s);
/* A presence from the user to contact C (subscribe, probe, ...). */
void contacts_on_user_presence(struct session *s, struct contact *c, const struct stanza *p);
/* The user unregistered: take every contact out of the roster. */
void contacts_remove_all(struct session *s);

/* ---- messages.c ------------------------------------------------------------------------ */

/* A message from the user to contact C. */
void messages_from_user(struct session *s, struct contact *c, const struct stanza *m);
void messages_on_im(struct session *s, GVariant *payload);
void messages_on_im_result(struct session *s, GVariant *payload);
void messages_on_ims_sent(struct session *s, GVariant *payload);
void messages_on_typing(struct session *s, GVariant *payload);
void messages_on_notice(struct session *s, GVariant *payload);
/* Signed on: send what waits in the outbox. */
void messages_flush_outbox(struct session *s);
/* In-flight messages of a lost worker go back to the outbox. */
void messages_requeue_inflight(struct session *s);
/* Nothing can be delivered (fatal failure, logout): every waiting message
 * comes back to its sender as an error with WHY. */
void messages_bounce_all(struct session *s, const char *why);
void inflight_free(gpointer inflight);

/* ---- roster.c ------------------------------------------------------------------------------ */

struct roster *roster_new(struct gateway *gw);
void roster_free(struct roster *roster);
/* A <message/> from the server granting XEP-0356 privileges; true if it was one. */
bool roster_on_privilege(struct roster *roster, const struct stanza *message);
/* Puts contact C into the user's roster: a privileged roster push, or one
 * subscription request (never repeated) when that is not possible. */
void roster_add(struct session *s, struct contact *c);
/* Takes C out of the roster (privileged push with subscription='remove'). */
void roster_remove(struct session *s, struct contact *c);

#endif
