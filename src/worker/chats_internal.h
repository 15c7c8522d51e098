/* chats_internal: what chats.c and chats_admin.c share (a room's state on
 * its conversation and the helpers to find it). Worker-internal. */
#ifndef FERRY_WORKER_CHATS_INTERNAL_H
#define FERRY_WORKER_CHATS_INTERNAL_H

#include "worker.h"

#define ROOM_KEY "ferry-room"
#define JOIN_TIMEOUT_S 30  /* JOIN_CHAT answered within this */
#define NAMES_TIMEOUT_S 5  /* chat-joined -> CHAT_JOINED at the latest */
#define HISTORY_EVERY 64   /* chat lines between history clearings */
#define ECHO_FIFO_MAX 256  /* seqs waiting for a room's reflection */
#define NICK_TIMEOUT_S 30  /* a nick change's refusal is awaited this long */
#define TOPIC_TIMEOUT_S 30 /* a topic's echo or refusal is awaited this long */
#define FLAGS_SENT 0x10000 /* in ui_data: flags were reported */
#define FLAGS_MASK                                                                                 \
	(WORKER_CHAT_FLAG_VOICE | WORKER_CHAT_FLAG_HALFOP | WORKER_CHAT_FLAG_OP |                  \
	 WORKER_CHAT_FLAG_FOUNDER | WORKER_CHAT_FLAG_AWAY)

enum room_state { ROOM_JOINING, ROOM_JOINED, ROOM_LEFT };

struct room {
	enum room_state state;
	char *asked;        /* JOIN_CHAT's name, "" for a join ferry did not ask for */
	char *topic_by;     /* who set the topic (IRC 333, a subject's sender), or NULL */
	guint names_timer;  /* NAMES_TIMEOUT_S while JOINING */
	GQueue echoes;      /* GUINT_TO_POINTER(seq) sent and not reflected yet */
	guint lines;        /* written since the history was last cleared */
	bool topic_pending; /* SET_CHAT_TOPIC not yet echoed or refused */
	guint topic_timer;  /* TOPIC_TIMEOUT_S while topic_pending */
	char *topic_sent;   /* the topic ferry has (CHAT_JOINED, CHAT_TOPIC) */
	bool invite_pending;
};

PurpleConnection *gc_of(struct account *account);
PurplePluginProtocolInfo *prpl_of(PurpleConnection *gc);
bool is_irc(struct account *account);
PurpleConversation *find_chat(struct account *account, const char *name);
/* CONV's struct room, or NULL (not a chat of ours yet) */
struct room *room_of(PurpleConversation *conv);
/* the live account behind CONV, or NULL */
struct account *account_of(PurpleConversation *conv);
/* prpl-jabber: a MUC join ends with the subject */
bool joined_at_subject(struct account *account);
const char *conv_name(PurpleConversation *conv);
/* case-insensitive (UTF-8) equality of two names, false for NULL */
bool same_name(const char *a, const char *b);
/* TEXT holds a line break (CR or LF): written verbatim into a protocol
 * line by prpl-irc (irc_format strips none), it would end that line and
 * start a command of the sender's choosing. A NUL cannot come (GVariant
 * strings hold none). */
bool has_line_break(const char *text);
/* a JOINING room is joined: its occupants, then CHAT_JOINED */
void complete_join(PurpleConversation *conv);

/* The raw IRC line being parsed when it is COMMAND and its parameter AT
 * (-1: none) names CONV's room, or NULL. */
const struct irc_raw *raw_line(struct account *account, const char *command,
                               PurpleConversation *conv, int at);
/* A line was written into CONV: libpurple's history of it is cleared now
 * and then (it only grows; nobody reads it here). */
void count_line(PurpleConversation *conv);
/* chats_messages.c: the write_chat ui op */
void chats_write_chat(PurpleConversation *conv, const char *who, const char *message,
                      PurpleMessageFlags flags, time_t mtime);

/* chats_jabber.c: true when the presence prpl-jabber is parsing kicked
 * (or banned) NICK (NULL: anyone) from ROOM of ACCOUNT; sets *ACTOR and
 * *REASON ("" when not given; borrowed until the next packet). */
bool chats_jabber_kick(guint32 account, const char *room, const char *nick, const char **actor,
                       const char **reason);

/* chats.c: prpl-jabber reported our own unavailable from ROOM (bare
 * JID): a join of it deferred until then starts. */
void chats_parted(guint32 account, const char *room);

/* chats_admin.c: topics, invitations, nick changes, probes */
void chats_admin_install(void);
void chats_admin_account_gone(guint32 id);
/* our nick changed: no refusal is awaited any more */
void chats_nick_done(struct account *account);

#endif
