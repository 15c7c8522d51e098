/* worker_protocol: the messages between ferry and its ferry-worker
 * processes, over the socketpair created at spawn (the worker's end is its
 * fd 3; nothing listens anywhere).
 *
 * A frame is a 4-byte big-endian length N (1 <= N <= WORKER_MAX_FRAME)
 * followed by N bytes: a GVariant of type "(uuv)" in normal form holding
 * (message type, account id, payload). Each message type has exactly one
 * payload type, given by the catalogue below (WORKER_MESSAGES), and a typed
 * codec in worker_msgs.h; a frame whose payload does not have it, whose
 * type is unknown, or that is not in normal form is rejected, and ferry then
 * treats the worker as broken (kills and replaces it).
 *
 * Account ids are chosen by ferry; one id names one legacy account inside
 * one worker, for as long as it is logged in (or logging in). Id 0 is for
 * messages about the worker itself.
 *
 * Text fields are UTF-8. IM text crosses in libpurple's markup (HTML):
 * ferry escapes plain text before sending it down and strips markup from
 * what comes up.
 */
#ifndef FERRY_WORKER_PROTOCOL_H
#define FERRY_WORKER_PROTOCOL_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define WORKER_MAX_FRAME (1024 * 1024)
/* The most bytes of legacy name and text together that a SEND_IM frame
 * holds: its other bytes are fewer than 64 (test_worker_protocol checks).
 * ferry refuses a longer message before it is framed. */
#define WORKER_MAX_IM_BYTES (WORKER_MAX_FRAME - 64)
#define WORKER_FD 3
/* A second socketpair, given as --acks-fd: the worker writes its
 * WORKER_IMS_SENT and WORKER_IM_PROGRESS frames there, and a copy of each
 * failed WORKER_IM_RESULT (which also goes at once on the main socket):
 * ferry reads this socket when it needs to -- before handling a
 * DISCONNECTED, before requeueing a dead worker's messages (the socket
 * keeps them after the worker is gone), before a logout, and once a
 * second -- and on it a failure always comes before the IMS_SENT that
 * passes over its sequence number. Without it they come on the main
 * socket. */
#define WORKER_ACKS_FD 4

/* ---- the catalogue ---------------------------------------------------------
 *
 * Every message, once: X(NAME, number, name, fields), where FIELDS is one
 * F(kind, member) per payload member, in wire order. From this list come
 * the enum (WORKER_NAME = number), the names for logs ("send_im"), the
 * payload type strings ("(uss)") and, in worker_msgs.h, a struct per
 * message with typed encode, decode and dispatch. Growing the catalogue is
 * one line here and a handler on the side that receives it.
 *
 * Kinds: STR (UTF-8 text, "s"), SECRET (text wiped from memory after use,
 * "s"), U32 ("u"), BOOL ("b"), I64 ("x"), DICT (text -> text, "a{ss}"),
 * FORM (a list of text -> text tables, "aa{ss}": a prompt's fields).
 */

/* clang-format off */
#define WORKER_COMMANDS(X, F)                                                              \
	/* Log in. (protocol id; legacy username with its splits joined, e.g.            \
	 * "nick@irc.example.org"; password, "" for none; account options: setting        \
	 * key -> value as text, the worker converts by the option's type;                \
	 * WORKER_LOGIN_* flags) */                                                        \
	X(LOGIN, 1, login, F(STR, protocol) F(STR, username) F(SECRET, password)          \
	                   F(DICT, options) F(U32, flags))                                 \
	/* Log out and forget the account. */                                              \
	X(LOGOUT, 2, logout, )                                                             \
	/* Send an IM (sequence number, legacy name, HTML text, at most this many lines  \
	 * on a line-based network, 0: no limit). A failure is answered by IM_RESULT      \
	 * (sent false) with the same sequence number; successes together, a moment      \
	 * later, by IMS_SENT. Where the worker paces lines (prpl-irc), a long message   \
	 * is announced by IM_QUEUED and its progress reported by IM_PROGRESS.           \
	 * Sequence numbers of an account only grow. */                                  \
	X(SEND_IM, 3, send_im, F(U32, seq) F(STR, name) F(STR, text) F(U32, max_lines))    \
	/* Set the legacy status (WORKER_STATUS_*, status message). */                     \
	X(SET_STATUS, 4, set_status, F(U32, status) F(STR, message))                       \
	/* Add a buddy to the legacy contact list (legacy name, alias). */                 \
	X(ADD_BUDDY, 5, add_buddy, F(STR, name) F(STR, alias))                             \
	/* Remove a buddy (legacy name). */                                                \
	X(REMOVE_BUDDY, 6, remove_buddy, F(STR, name))                                     \
	/* Our typing state towards a buddy (legacy name, WORKER_TYPING_*). */             \
	X(SEND_TYPING, 7, send_typing, F(STR, name) F(U32, state))                         \
	/* Answer an authorization request (request id, granted). */                       \
	X(AUTH_REPLY, 8, auth_reply, F(U32, request) F(BOOL, granted))                     \
	/* Stop: log everyone out and exit. On account 0. */                               \
	X(SHUTDOWN, 9, shutdown, )                                                         \
	/* A test login (WORKER_LOGIN_TEST) becomes a normal one: from now on its         \
	 * events flow, starting with what it held (IMs received meanwhile, in order)     \
	 * and every buddy it has. Lets a registration's check login carry on as the     \
	 * user's session instead of a second login (no nick clash, no reconnect          \
	 * throttling). */                                                                 \
	X(KEEP, 10, keep, )                                                                \
	/* Drop every SEND_IM not yet sent in full (each answered by IM_RESULT,          \
	 * WORKER_IM_CANCELLED, with how much went); lines already written are still     \
	 * confirmed (IMS_SENT). Before a logout that must not leave lines behind         \
	 * unreported (an unregistration). */                                             \
	X(CANCEL_IMS, 30, cancel_ims, )                                                    \
	/* Stop (paused true) or resume reading the account's legacy connection: ferry   \
	 * cannot pass on what it would read (the XMPP server is slow or away). Events    \
	 * already read still come; sending goes on. */                                   \
	X(PAUSE_READ, 40, pause_read, F(BOOL, paused))                                     \
	/* ---- group chats (rooms). ROOM is the chat's name on the network ("#ferry",     \
	 * "room@conference.example.net"); events name it as the network spells it        \
	 * (ferry compares names case-folded). */                                          \
	/* Join ROOM with KEY ("" for none) as NICK where the protocol takes a nick per   \
	 * room (prpl-jabber; IRC's nick is the connection's and NICK is ignored).       \
	 * Answered by CHAT_JOINED or CHAT_JOIN_FAILED; a join already done is answered   \
	 * by CHAT_JOINED again (the whole state: occupants first). */                    \
	X(JOIN_CHAT, 50, join_chat, F(STR, room) F(STR, key) F(STR, nick))                \
	/* Leave ROOM (IRC: PART). No answer; ROOM unknown: ignored. */                   \
	X(LEAVE_CHAT, 51, leave_chat, F(STR, room))                                        \
	/* Say TEXT (HTML, "/me " for an action) in ROOM. Shares the account's SEND_IM    \
	 * sequence numbers and their answers: IM_RESULT (sent false) on failure,         \
	 * IMS_SENT on success; when the network took it, CHAT_MESSAGE with this seq      \
	 * (the echo ferry reflects), before the IMS_SENT that covers it. */              \
	X(SEND_CHAT, 52, send_chat, F(U32, seq) F(STR, room) F(STR, text) F(U32, max_lines)) \
	/* Set ROOM's topic; a refusal is CHAT_ERROR (WORKER_CHAT_OP_TOPIC), success      \
	 * the CHAT_TOPIC the network echoes. */                                          \
	X(SET_CHAT_TOPIC, 53, set_chat_topic, F(STR, room) F(STR, topic))                  \
	/* Invite legacy user NAME to ROOM with REASON. Refusal: CHAT_ERROR (INVITE). */   \
	X(CHAT_INVITE, 54, chat_invite, F(STR, room) F(STR, name) F(STR, reason))         \
	/* Change our nick in ROOM to NICK (IRC: the connection's nick, every room).      \
	 * Success: CHAT_RENAMED in each room; refusal: CHAT_ERROR (NICK). */              \
	X(SET_CHAT_NICK, 55, set_chat_nick, F(STR, room) F(STR, nick))                     \
	/* List the network's rooms: answered by ROOM_LIST batches, the last with done.   \
	 * At most WORKER_ROOM_LIST_MAX rooms in all. */                                   \
	X(LIST_ROOMS, 56, list_rooms, )                                                    \
	/* Is ROOM a room? (prpl-jabber: a disco#info to that JID on the legacy server.)  \
	 * Answered by ROOM_INFO within a bounded time. */                                 \
	X(PROBE_ROOM, 57, probe_room, F(STR, room))                                        \
	/* ---- prompts: questions libpurple (or ferry's certificate check) asks the      \
	 * user. Answer prompt PROMPT: ACTION is WORKER_PROMPT_OK with VALUES (var ->      \
	 * value, the vars of the PROMPT's form; a list-multi's values joined by "\n";     \
	 * fields left out keep their value) or WORKER_PROMPT_CANCEL (VALUES ignored).     \
	 * Answered by PROMPT_CLOSED (ANSWERED or CANCELLED) as its callback runs (sent   \
	 * just before, so that what the callback causes, a disconnection, comes after), by PROMPT_CLOSED (UNKNOWN) when PROMPT is not open for this account, or    \
	 * by PROMPT_ERROR when a value does not fit (the prompt stays open). */           \
	X(ANSWER_PROMPT, 60, answer_prompt, F(U32, prompt) F(U32, action) F(DICT, values))

#define WORKER_EVENTS(X, F)                                                                \
	/* The worker is up (worker protocol version, libpurple version). On account 0. */ \
	X(READY, 100, ready, F(U32, version) F(STR, libpurple))                            \
	/* Signed on (the display name the network gave us, e.g. "nick1"). */              \
	X(CONNECTED, 101, connected, F(STR, nick))                                         \
	/* Connection lost or login failed (WORKER_REASON_*, human-readable reason       \
	 * from the network, fatal: retrying cannot help). */                              \
	X(DISCONNECTED, 102, disconnected, F(U32, reason) F(STR, text) F(BOOL, fatal))     \
	/* A buddy's presence (legacy name, alias, WORKER_STATUS_*, status message as    \
	 * plain text). */                                                                 \
	X(BUDDY_STATUS, 103, buddy_status, F(STR, name) F(STR, alias) F(U32, status)      \
	                                   F(STR, message))                                \
	/* A buddy left the legacy contact list (legacy name). */                          \
	X(BUDDY_REMOVED, 104, buddy_removed, F(STR, name))                                 \
	/* An IM arrived (legacy name, HTML text, unix time). */                           \
	X(IM_RECEIVED, 105, im_received, F(STR, name) F(STR, text) F(I64, when))           \
	/* Outcome of SEND_IM (sequence number, sent, WORKER_IM_* why not, error text,   \
	 * lines sent, lines in all, bytes of the plain text sent: the rest never went).  \
	 * Lines are 1 and 0 or 1 where the protocol has no lines. */                      \
	X(IM_RESULT, 106, im_result, F(U32, seq) F(BOOL, sent) F(U32, reason)              \
	                             F(STR, error) F(U32, lines_sent) F(U32, lines)        \
	                             F(U32, done))                                         \
	/* A buddy's typing state (legacy name, WORKER_TYPING_*). */                       \
	X(TYPING, 107, typing, F(STR, name) F(U32, state))                                 \
	/* A legacy user asks to add us (request id, legacy name, alias, message).       \
	 * Answered with AUTH_REPLY. */                                                    \
	X(AUTH_REQUEST, 108, auth_request, F(U32, request) F(STR, name) F(STR, alias)     \
	                                   F(STR, message))                                \
	/* Something the user should read: a question libpurple asked (the worker has    \
	 * already taken its default, or refused it when that was unsafe), or a           \
	 * notification (title, text). */                                                  \
	X(NOTICE, 109, notice, F(STR, title) F(STR, text))                                 \
	/* Every SEND_IM of this account up to and including this sequence number that   \
	 * was not answered by a failed IM_RESULT has been handed to the network. Sent    \
	 * once the worker has carried out the commands it read together (and always      \
	 * before DISCONNECTED): one frame for a burst, written after the messages        \
	 * themselves, on WORKER_ACKS_FD when there is one. */                             \
	X(IMS_SENT, 110, ims_sent, F(U32, through))                                         \
	/* The network answered an IM with the contact's away text (an automatic         \
	 * reply, such as IRC's 301: legacy name, HTML text). Not the contact's words:     \
	 * their presence, until they stir. */                                            \
	X(BUDDY_AWAY, 120, buddy_away, F(STR, name) F(STR, message))                       \
	/* A SEND_IM will take a while (sequence number, lines, estimated seconds until  \
	 * its last line is sent at the account's pace). Sent at once, before any line.  \
	 * Only for messages of more than one line. */                                    \
	X(IM_QUEUED, 130, im_queued, F(U32, seq) F(U32, lines) F(U32, seconds))            \
	/* How far a SEND_IM has gone (sequence number, lines sent, lines in all, bytes   \
	 * of the plain text sent). Like IMS_SENT: written lazily, on WORKER_ACKS_FD      \
	 * when there is one, after the lines themselves, and always before              \
	 * DISCONNECTED; lets ferry requeue only the rest after a crash or a lost         \
	 * connection, and say how much went. */                                          \
	X(IM_PROGRESS, 131, im_progress, F(U32, seq) F(U32, lines_sent) F(U32, lines)      \
	                                 F(U32, done))                                      \
	/* The network refused the name asked for and libpurple signed on under another  \
	 * (prpl-irc: nick "bob" in use, signed on as "bob1"): (the name asked for, the   \
	 * name given). Sent right before CONNECTED, test logins included. */             \
	X(NAME_FALLBACK, 150, name_fallback, F(STR, wanted) F(STR, given))                \
	/* ---- group chats. */                                                            \
	/* We are in ROOM (the network's spelling; ASKED: the name JOIN_CHAT gave, "" for  \
	 * a join ferry did not ask for) as NICK, with TOPIC ("" for none) set by TOPIC_BY \
	 * ("" unknown). Sent once the first occupant list is complete: every occupant,   \
	 * ourselves included, has come as CHAT_OCCUPANT before it. Again after a         \
	 * repeated JOIN_CHAT (the state anew). */                                        \
	X(CHAT_JOINED, 160, chat_joined, F(STR, room) F(STR, asked) F(STR, nick)          \
	                                 F(STR, topic) F(STR, topic_by))                  \
	/* A JOIN_CHAT failed (the room as asked, WORKER_CHAT_FAIL_*, the network's       \
	 * text). */                                                                       \
	X(CHAT_JOIN_FAILED, 161, chat_join_failed, F(STR, room) F(U32, reason) F(STR, text)) \
	/* NICK is in ROOM with WORKER_CHAT_FLAG_* FLAGS (new, or its flags changed; an    \
	 * unchanged repeat is not sent), REAL its real address where the network shows   \
	 * it ("" else; prpl-jabber: the occupant's JID), PM the legacy name an IM to it  \
	 * goes to (IRC: the nick; prpl-jabber: room@server/nick). */                     \
	X(CHAT_OCCUPANT, 162, chat_occupant, F(STR, room) F(STR, nick) F(U32, flags)      \
	                                     F(STR, real) F(STR, pm))                     \
	/* NICK left ROOM (WORKER_CHAT_LEFT_* HOW, ACTOR who kicked, REASON; "" none). */  \
	X(CHAT_OCCUPANT_LEFT, 163, chat_occupant_left, F(STR, room) F(STR, nick)          \
	                                               F(U32, how) F(STR, actor)          \
	                                               F(STR, reason))                    \
	/* OLD is now known as NICK in ROOM (ourselves included). */                      \
	X(CHAT_RENAMED, 164, chat_renamed, F(STR, room) F(STR, old) F(STR, nick))         \
	/* NICK said TEXT (HTML) in ROOM at WHEN (unix time); SEQ is our SEND_CHAT's when  \
	 * this is its echo (0 otherwise: another's, or ours from another client);        \
	 * WORKER_CHAT_MSG_* FLAGS. Never system text (joins, modes, topics, notices). */ \
	X(CHAT_MESSAGE, 165, chat_message, F(STR, room) F(STR, nick) F(STR, text)         \
	                                   F(I64, when) F(U32, seq) F(U32, flags))        \
	/* ROOM's topic is now TOPIC, set by WHO ("" unknown). */                          \
	X(CHAT_TOPIC, 166, chat_topic, F(STR, room) F(STR, who) F(STR, topic))            \
	/* We are no longer in ROOM (WORKER_CHAT_LEFT_* HOW, ACTOR, REASON). Not sent     \
	 * when the connection ends (every room ends with it). */                         \
	X(CHAT_LEFT, 167, chat_left, F(STR, room) F(U32, how) F(STR, actor) F(STR, reason)) \
	/* INVITER invites us to ROOM (MESSAGE, KEY: "" none). The worker declined it on \
	 * the network's side; ferry passes it to the user. */                            \
	X(CHAT_INVITED, 168, chat_invited, F(STR, room) F(STR, inviter) F(STR, message)   \
	                                   F(STR, key))                                   \
	/* The network refused OP (WORKER_CHAT_OP_*) in ROOM ("" for the connection:     \
	 * a nick change), with its TEXT. */                                               \
	X(CHAT_ERROR, 169, chat_error, F(STR, room) F(U32, op) F(STR, text))              \
	/* Rooms of the network, a batch: name -> "USERS\tTOPIC" (USERS a count, "" when \
	 * unknown). DONE on the last batch (possibly empty); COMPLETE false when the     \
	 * list was cut (WORKER_ROOM_LIST_MAX, or the listing failed). */                 \
	X(ROOM_LIST, 170, room_list, F(DICT, rooms) F(BOOL, done) F(BOOL, complete))      \
	/* PROBE_ROOM's answer (ROOM as asked, WORKER_ROOM_* KIND, its NAME, whether it   \
	 * takes a password). */                                                           \
	X(ROOM_INFO, 171, room_info, F(STR, room) F(U32, kind) F(STR, name)               \
	                             F(BOOL, password))                                   \
	/* ---- prompts. */                                                               \
	/* A question for the user: PROMPT (an id, never 0, unique for the worker's run),  \
	 * WORKER_PROMPT_KIND_* KIND, TITLE, INSTRUCTIONS (libpurple's primary and        \
	 * secondary text, plain, "\n" between), WHO (the legacy name it is about, ""     \
	 * none), and FORM: its fields in order, each a table of WORKER_PROMPT_FIELD_*     \
	 * keys. Open until PROMPT_CLOSED; sent during test logins too (not held). */     \
	X(PROMPT, 180, prompt, F(U32, prompt) F(U32, kind) F(STR, title)                  \
	                       F(STR, instructions) F(STR, who) F(FORM, form))            \
	/* PROMPT is closed (WORKER_PROMPT_CLOSED_* WHY, TEXT for the user, "" none).     \
	 * No callback of it runs after this, and an answer to it is refused. */          \
	X(PROMPT_CLOSED, 181, prompt_closed, F(U32, prompt) F(U32, why) F(STR, text))     \
	/* ANSWER_PROMPT's VALUES did not fit PROMPT (TEXT says which field); it stays    \
	 * open. */                                                                        \
	X(PROMPT_ERROR, 182, prompt_error, F(U32, prompt) F(STR, text))                   \
	/* How the account's legacy link is protected, once known (sent before            \
	 * CONNECTED, and again when it changes): ENCRYPTED (TLS), the server             \
	 * certificate's SUBJECT, ISSUER and SHA256 fingerprint (hex, colon-separated;    \
	 * "" when not encrypted), TRUST (WORKER_TRUST_*). libpurple tells no TLS          \
	 * version or cipher. */                                                           \
	X(LINK_INFO, 183, link_info, F(BOOL, encrypted) F(STR, subject) F(STR, issuer)    \
	                             F(STR, sha256) F(U32, trust))                         \
	/* NAME offered us a file, FILENAME (as the user may read it: valid UTF-8, no      \
	 * control characters, cut) of SIZE bytes (0: unknown). The worker declined it:    \
	 * a file cannot cross (links in the text do). */                                 \
	X(FILE_OFFERED, 220, file_offered, F(STR, name) F(STR, filename) F(I64, size))

#define WORKER_MESSAGES(X, F) WORKER_COMMANDS(X, F) WORKER_EVENTS(X, F)
/* clang-format on */

/* The wire type of each kind. */
#define WORKER_WIRE_STR "s"
#define WORKER_WIRE_SECRET "s"
#define WORKER_WIRE_U32 "u"
#define WORKER_WIRE_BOOL "b"
#define WORKER_WIRE_I64 "x"
#define WORKER_WIRE_DICT "a{ss}"
#define WORKER_WIRE_FORM "aa{ss}"

#define WORKER_ENUM_ITEM_(NAME, number, name, fields) WORKER_##NAME = number,
#define WORKER_NO_FIELD_(kind, member)

/* Commands (ferry -> worker) are below WORKER_READY, events (worker ->
 * ferry) from it on. */
enum worker_msg { WORKER_MESSAGES(WORKER_ENUM_ITEM_, WORKER_NO_FIELD_) };

enum worker_login_flags {
	/* A credentials check: only CONNECTED, NAME_FALLBACK and DISCONNECTED go up;
	 * IMs, notices and authorization requests are held (bounded) and sent at
	 * KEEP, anything else is dropped (KEEP reports the buddies anew). */
	WORKER_LOGIN_TEST = 1 << 0,
};

enum worker_status {
	WORKER_STATUS_OFFLINE = 0,
	WORKER_STATUS_AVAILABLE = 1,
	WORKER_STATUS_AWAY = 2,
	WORKER_STATUS_XA = 3,
	WORKER_STATUS_DND = 4,
};

enum worker_typing {
	WORKER_TYPING_NONE = 0,   /* stopped, nothing typed */
	WORKER_TYPING_ACTIVE = 1, /* typing */
	WORKER_TYPING_PAUSED = 2, /* typed, paused */
};

/* Why a SEND_IM failed (IM_RESULT reason): how ferry answers its sender. */
enum worker_im_failure {
	WORKER_IM_FAILED = 0,        /* the protocol refused it (the error says why) */
	WORKER_IM_NO_RECIPIENT = 1,  /* nobody of that name is on the network (IRC 401) */
	WORKER_IM_TOO_LONG = 2,      /* more lines than SEND_IM's max_lines */
	WORKER_IM_NOT_CONNECTED = 3, /* the account is not (or no longer) signed on */
	WORKER_IM_CANCELLED = 4,     /* CANCEL_IMS came before it was sent in full */
};

/* Why a connection ended: how ferry reports it and whether it retries. */
enum worker_reason {
	WORKER_REASON_NETWORK = 0,     /* network error: retry with backoff */
	WORKER_REASON_AUTH = 1,        /* wrong credentials: fatal */
	WORKER_REASON_CERTIFICATE = 2, /* untrusted certificate: fatal */
	WORKER_REASON_NAME_IN_USE = 3, /* name taken / other login: fatal */
	WORKER_REASON_INVALID = 4,     /* bad settings (invalid username...) */
	WORKER_REASON_OTHER = 5,       /* anything else */
	WORKER_REASON_TIMEOUT = 6,     /* no sign-on within the deadline */
	WORKER_REASON_LOGOUT = 7,      /* we asked for it */
	/* Never sent by a worker: ferry's pool reports it when an account's
	 * worker died twice with its messages in flight, the second time
	 * hosting it alone (workers.c): the account is taken as the cause. */
	WORKER_REASON_CRASHED = 8,
};

/* Why a JOIN_CHAT failed (CHAT_JOIN_FAILED reason): the MUC error ferry gives. */
enum worker_chat_failure {
	WORKER_CHAT_FAIL_OTHER = 0,       /* anything else (the text says) */
	WORKER_CHAT_FAIL_KEY = 1,         /* wrong or missing key (IRC 475) */
	WORKER_CHAT_FAIL_BANNED = 2,      /* banned (474) */
	WORKER_CHAT_FAIL_INVITE_ONLY = 3, /* invite only (473), registered nicks only (477) */
	WORKER_CHAT_FAIL_FULL = 4,        /* full (471), too many channels (405) */
	WORKER_CHAT_FAIL_NICK_IN_USE = 5, /* the nick is taken in the room */
	WORKER_CHAT_FAIL_NO_ROOM = 6,     /* no such room (403, 476 bad name) */
	WORKER_CHAT_FAIL_NETWORK = 7,     /* not connected, or no answer in time */
};

/* Occupant flags (CHAT_OCCUPANT): libpurple's PurpleConvChatBuddyFlags. */
enum worker_chat_flags {
	WORKER_CHAT_FLAG_VOICE = 0x1,
	WORKER_CHAT_FLAG_HALFOP = 0x2,
	WORKER_CHAT_FLAG_OP = 0x4,
	WORKER_CHAT_FLAG_FOUNDER = 0x8,
	WORKER_CHAT_FLAG_AWAY = 0x20,
};

/* How someone left a room (CHAT_OCCUPANT_LEFT, CHAT_LEFT). */
enum worker_chat_left {
	WORKER_CHAT_LEFT_PART = 0,  /* left (IRC PART; our own LEAVE_CHAT) */
	WORKER_CHAT_LEFT_QUIT = 1,  /* left the network (IRC QUIT) */
	WORKER_CHAT_LEFT_KICK = 2,  /* kicked by ACTOR */
	WORKER_CHAT_LEFT_OTHER = 3, /* the network ended it (room destroyed, ...) */
};

/* CHAT_MESSAGE flags. */
enum worker_chat_msg_flags {
	WORKER_CHAT_MSG_DELAYED = 0x1, /* history the network replayed (WHEN is its time) */
};

/* What the network refused (CHAT_ERROR op). */
enum worker_chat_op {
	WORKER_CHAT_OP_TOPIC = 1,
	WORKER_CHAT_OP_NICK = 2,
	WORKER_CHAT_OP_INVITE = 3,
	WORKER_CHAT_OP_SEND = 4, /* a line refused after it was taken (e.g. IRC 404) */
};

/* What PROBE_ROOM found (ROOM_INFO kind). */
enum worker_room_kind {
	WORKER_ROOM_UNKNOWN = 0,  /* no answer, or the protocol cannot tell */
	WORKER_ROOM_ROOM = 1,     /* a room */
	WORKER_ROOM_NOT_ROOM = 2, /* the address exists and is no room (a user, a server) */
	WORKER_ROOM_MISSING = 3,  /* nothing there (item-not-found) */
};

/* The most rooms a LIST_ROOMS reports. */
#define WORKER_ROOM_LIST_MAX 20000

/* ---- prompts ---------------------------------------------------------------- */

/* What a PROMPT is (the libpurple request it stands for). */
enum worker_prompt_kind {
	WORKER_PROMPT_KIND_INPUT = 1,       /* purple_request_input: field "value" */
	WORKER_PROMPT_KIND_CHOICE = 2,      /* purple_request_choice: list-single "choice" */
	WORKER_PROMPT_KIND_ACTION = 3,      /* purple_request_action(_with_icon): list-single
	                                     * "action", values "0".."n-1" */
	WORKER_PROMPT_KIND_FIELDS = 4,      /* purple_request_fields: one field per libpurple
	                                     * field */
	WORKER_PROMPT_KIND_CERTIFICATE = 5, /* ferry's certificate check: list-single
	                                     * "action" (reject, once, always), hidden "host",
	                                     * "port", "sha256" */
};

/* ANSWER_PROMPT action. */
enum worker_prompt_action {
	WORKER_PROMPT_OK = 0,
	WORKER_PROMPT_CANCEL = 1, /* the prompt's cancel; for an action prompt, which has
	                           * none, the refusing action by its label (Reject,
	                           * Cancel, No, Deny), else the prompt is closed and the
	                           * login ends */
};

/* PROMPT_CLOSED why. */
enum worker_prompt_closed {
	WORKER_PROMPT_CLOSED_ANSWERED = 0,  /* ANSWER_PROMPT OK: its callback ran */
	WORKER_PROMPT_CLOSED_CANCELLED = 1, /* ANSWER_PROMPT CANCEL: its cancel ran */
	WORKER_PROMPT_CLOSED_WITHDRAWN = 2, /* the plugin closed it, or its connection ended */
	WORKER_PROMPT_CLOSED_UNKNOWN = 3,   /* ANSWER_PROMPT named no prompt open */
};

/* The keys of a PROMPT form's field tables (every value text; absent keys
 * are empty or false):
 *   var       unique in the form; "" only for fixed fields
 *   type      an XEP-0004 type name: text-single, text-private, text-multi,
 *             boolean, list-single, list-multi, fixed, hidden
 *   label     plain text
 *   desc      plain text (a type hint, ...)
 *   value     the default; several joined by "\n" (list-multi)
 *   required  "1" when required
 *   integer   "1": a text-single holding an integer
 *   options   list types: one "value\tlabel" per line, in order
 *   image     a picture: its bytes in base64 (at most WORKER_PROMPT_IMAGE_MAX
 *             bytes decoded), any format; on a fixed field */
#define WORKER_PROMPT_FIELD_VAR "var"
#define WORKER_PROMPT_FIELD_TYPE "type"
#define WORKER_PROMPT_FIELD_LABEL "label"
#define WORKER_PROMPT_FIELD_DESC "desc"
#define WORKER_PROMPT_FIELD_VALUE "value"
#define WORKER_PROMPT_FIELD_REQUIRED "required"
#define WORKER_PROMPT_FIELD_INTEGER "integer"
#define WORKER_PROMPT_FIELD_OPTIONS "options"
#define WORKER_PROMPT_FIELD_IMAGE "image"
#define WORKER_PROMPT_IMAGE_MAX (256 * 1024)

/* LINK_INFO trust: how the certificate came to be trusted. */
enum worker_trust {
	WORKER_TRUST_NONE = 0,   /* not encrypted */
	WORKER_TRUST_CA = 1,     /* valid for the host by the system's CAs */
	WORKER_TRUST_PINNED = 2, /* pinned for this account (LOGIN option ferry.cert_pins) */
	WORKER_TRUST_ONCE = 3,   /* the user accepted it for this login */
};

/* The LOGIN option (not a libpurple one) with the certificates the user
 * always accepts for this account: one "host port sha256" per line
 * (sha256 as in LINK_INFO). A certificate the CAs do not vouch for is
 * accepted only when pinned here for its host and port, or by the user's
 * answer to a CERTIFICATE prompt. */
#define WORKER_OPTION_CERT_PINS "ferry.cert_pins"

/* 2: SEND_IM max_lines, IM_RESULT reason and progress, IM_QUEUED, IM_PROGRESS,
 * CANCEL_IMS; 3: group chats (JOIN_CHAT ... ROOM_INFO); 4: prompts
 * (ANSWER_PROMPT, PROMPT, PROMPT_CLOSED, PROMPT_ERROR), LINK_INFO */
#define WORKER_PROTOCOL_VERSION 4

/* The protocol descriptions ferry-worker --describe prints are in
 * worker_describe.h. */

/* ---- frames ---------------------------------------------------------------- */

#define WORKER_PROTOCOL_ERROR (worker_protocol_error_quark())
GQuark worker_protocol_error_quark(void);

enum worker_protocol_error_code {
	WORKER_PROTOCOL_ERROR_FRAME,   /* bad length, or not a "(uuv)" in normal form */
	WORKER_PROTOCOL_ERROR_TYPE,    /* unknown message type */
	WORKER_PROTOCOL_ERROR_PAYLOAD, /* the payload has the wrong type */
};

/* The payload type string for TYPE, or NULL if TYPE is unknown. */
const char *worker_msg_payload_type(guint32 type);

/* A readable name for TYPE ("login", ...), for logs. */
const char *worker_msg_name(guint32 type);

/* Serializes a message into a frame (length prefix included). PAYLOAD is
 * consumed if floating. Returns NULL (logged) when PAYLOAD's type is not
 * TYPE's (a programming error) or when the frame would be longer than
 * WORKER_MAX_FRAME: no frame over the limit is ever written, by either
 * side. */
GBytes *worker_frame_encode(guint32 type, guint32 account, GVariant *payload);

/* Decodes one frame BODY (without the length prefix). On success sets
 * *TYPE, *ACCOUNT and *PAYLOAD (a new reference the caller unrefs). */
bool worker_frame_decode(GBytes *body, guint32 *type, guint32 *account, GVariant **payload,
                         GError **error);

/* A copy of LEN bytes of DATA whose memory is overwritten when its last
 * reference goes: for frames and values that carry passwords. */
GBytes *worker_wiped_bytes_new(const void *data, gsize len);

/* The message type and account of an encoded FRAME (length prefix
 * included, as worker_frame_encode() returns it). */
guint32 worker_frame_type(GBytes *frame);
guint32 worker_frame_account(GBytes *frame);

/* Reassembles frames from a byte stream: feed bytes, take complete bodies.
 * Holds at most one frame's worth of data. */
struct worker_reader;
struct worker_reader *worker_reader_new(void);
void worker_reader_free(struct worker_reader *reader);
/* Appends LEN bytes. */
void worker_reader_feed(struct worker_reader *reader, const void *data, size_t len);
/* The next complete frame body, or NULL (no error) when more bytes are
 * needed. A length prefix of 0 or over WORKER_MAX_FRAME is an error. The
 * returned bytes are wiped when the caller's last reference is dropped. */
GBytes *worker_reader_next(struct worker_reader *reader, GError **error);

/* Encoded frames waiting for a socket, oldest first; both ends queue
 * what the socket did not take at once. */
struct frame_queue {
	GQueue frames; /* GBytes */
	gsize offset;  /* bytes of the head already written */
	gsize bytes;   /* total unwritten bytes */
};

#define FRAME_QUEUE_INIT                                                                           \
	{                                                                                          \
		G_QUEUE_INIT, 0, 0                                                                 \
	}

/* Appends FRAME (taken). */
void frame_queue_push(struct frame_queue *queue, GBytes *frame);

/* Writes what FD takes of the queue with one sendmsg (non-blocking, no
 * SIGPIPE): the bytes written, or -1 with errno set (EAGAIN: try later). */
gssize frame_queue_send(struct frame_queue *queue, int fd);

static inline bool frame_queue_is_empty(const struct frame_queue *queue)
{
	return queue->frames.length == 0;
}

/* Drops everything queued. */
void frame_queue_clear(struct frame_queue *queue);

#endif
