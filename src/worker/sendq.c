/* sendq: the lines an account's messages become on a line-based network
 * (prpl-irc), paced by the worker instead of the protocol's private queue,
 * and fenced with a PING so that a message counts as sent only when the
 * server has taken it.
 *
 * prpl-irc cuts a long line every ~445 bytes in the middle of a word and
 * drops the byte at each cut, sends blank lines as empty PRIVMSGs, and
 * queues everything behind its own rate limiter, where a logout or a lost
 * connection silently discards the rest. So for it the worker:
 *   - splits each message itself (linesplit.h: between words, UTF-8 safe,
 *     with room for the prefix the server adds when relaying), leaves out
 *     blank lines, and sends "/me ..." as CTCP ACTIONs;
 *   - turns the protocol's rate limit off and applies the account's
 *     ratelimit-interval/-burst here (a token bucket), so a line handed to
 *     the protocol is a line on the socket (quirks_flush_sends);
 *   - after the last line of a message, sends "PING :ferry-N"; the server
 *     answers in order, so its PONG means it took every line before it,
 *     and a 401 (no such nick) before it answers the oldest unconfirmed
 *     line to that nick: that message fails (IM_RESULT, WORKER_IM_NO_RECIPIENT)
 *     and the protocol's "User is not logged in" line is not relayed;
 *   - reports how far each message went (IM_PROGRESS, lazily, on the
 *     acknowledgement socket), so that after a crash or a lost connection
 *     ferry requeues only what did not go.
 * A message is acknowledged (account_sent, IMS_SENT) when its fence's PONG
 * arrives, or, when the connection ends first, once all its lines were
 * written (a written line is not sent twice). */
#include "config.h"
#include "worker.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "ferry/linesplit.h"

#define FENCE_PREFIX "ferry-"
#define ACTION_PREFIX "/me "

struct qmsg {
	guint32 seq;
	char *name;    /* the target nick */
	char *plain;   /* the whole message as plain text */
	gsize base;    /* bytes of PLAIN before the split text (ACTION_PREFIX) */
	GArray *lines; /* struct linesplit_line, relative to PLAIN + BASE */
	guint next;    /* lines sent so far */
	bool action;   /* /me: every line a CTCP ACTION */
	char *echo;    /* SEND_CHAT: its text as sent, echoed at the PONG; NULL: an IM */
	bool failed;   /* answered by a failed IM_RESULT: nothing more goes */
	guint32 fence; /* the PING after its last line, 0 until sent */
};

/* A line written and not yet fenced by a PONG: what a 401 may answer. */
struct sent_line {
	guint32 seq;
	char *name;
	guint32 fence; /* 0 until the PING after it is sent */
};

struct sendq {
	struct account *account;
	GQueue queue;    /* struct qmsg: not all lines sent yet, oldest first */
	GQueue awaiting; /* struct qmsg: all lines sent, waiting for their PONG */
	GQueue unfenced; /* struct sent_line, oldest first */
	guint32 fences;  /* PINGs sent */
	guint interval;  /* ms per line once the burst is spent; 0: no pacing */
	guint burst;     /* lines at once */
	double tokens;   /* lines that may go now */
	gint64 refilled; /* monotonic µs of the last refill */
	guint timer;     /* next line due */
	char *swallow;   /* conversation whose next system line we answered */
};

static void qmsg_free(gpointer data)
{
	struct qmsg *m = data;
	g_free(m->name);
	g_free(m->plain);
	g_free(m->echo);
	g_array_unref(m->lines);
	g_free(m);
}

static void sent_line_free(gpointer data)
{
	struct sent_line *l = data;
	g_free(l->name);
	g_free(l);
}

/* Bytes of the plain text sent (the rest never went). */
static guint32 qmsg_done(const struct qmsg *m)
{
	if (m->next == 0)
		return 0;
	if (m->next >= m->lines->len)
		return (guint32)strlen(m->plain);
	return (guint32)(m->base + g_array_index(m->lines, struct linesplit_line, m->next - 1).end);
}

static void report_progress(struct sendq *q, const struct qmsg *m)
{
	guint32 id = account_id(q->account);
	channel_send(WORKER_FRAME(im_progress, .account = id, .seq = m->seq, .lines_sent = m->next,
	                          .lines = m->lines->len, .done = qmsg_done(m)));
}

static void report_failure(struct sendq *q, struct qmsg *m, guint32 reason, const char *error)
{
	m->failed = true;
	guint32 id = account_id(q->account);
	g_message("account %u: IM %u failed after %u of %u lines: %s", id, m->seq, m->next,
	          m->lines->len, error);
	channel_send(WORKER_FRAME(im_result, .account = id, .seq = m->seq, .sent = false,
	                          .reason = reason, .error = error, .lines_sent = m->next,
	                          .lines = m->lines->len, .done = qmsg_done(m)));
}

/* ---- pacing ------------------------------------------------------------------- */

static void refill(struct sendq *q)
{
	gint64 now = g_get_monotonic_time();
	if (q->interval > 0)
		q->tokens = MIN((double)q->burst,
		                q->tokens + (double)(now - q->refilled) / (q->interval * 1000.0));
	q->refilled = now;
}

static bool may_send(struct sendq *q)
{
	return q->interval == 0 || q->tokens >= 1.0;
}

static void pump(struct sendq *q);

/* A loop timer (loop.h): the batch hooks cork the channel around it and
 * send the acknowledgements after it. */
static gboolean on_due(gpointer data)
{
	struct sendq *q = data;
	q->timer = 0;
	pump(q);
	return G_SOURCE_REMOVE;
}

static void schedule(struct sendq *q)
{
	if (q->timer != 0 || g_queue_is_empty(&q->queue) || q->interval == 0)
		return;
	guint delay = (guint)((1.0 - q->tokens) * q->interval) + 1;
	q->timer = loop_timeout_add(delay, on_due, q);
}

/* ---- writing lines --------------------------------------------------------------- */

static PurpleConnection *connection(struct sendq *q)
{
	return purple_account_get_connection(account_purple(q->account));
}

/* Writes a raw line (FORMAT, with its CR LF) through the protocol's
 * queue: the byte count, or -1 when it cannot. */
G_GNUC_PRINTF(2, 3) static int send_raw(struct sendq *q, const char *format, ...)
{
	PurpleConnection *gc = connection(q);
	PurplePlugin *prpl = gc != NULL ? purple_connection_get_prpl(gc) : NULL;
	PurplePluginProtocolInfo *info = prpl != NULL ? PURPLE_PLUGIN_PROTOCOL_INFO(prpl) : NULL;
	if (info == NULL || info->send_raw == NULL)
		return -1;
	va_list args;
	va_start(args, format);
	g_autofree char *line = g_strdup_vprintf(format, args);
	va_end(args);
	return info->send_raw(gc, line, (int)strlen(line));
}

/* Hands one line to the protocol; false if it refused. */
static bool write_line(struct sendq *q, struct qmsg *m)
{
	const struct linesplit_line *l = &g_array_index(m->lines, struct linesplit_line, m->next);
	g_autofree char *text = g_strndup(m->plain + m->base + l->start, l->len);
	if (m->action) {
		char *framed = g_strdup_printf("\001ACTION %s\001", text);
		g_free(text);
		text = framed;
	}
	int result;
	if (m->echo != NULL) {
		/* a channel: written raw (prpl-irc's IM path would take a
		 * leading '&' of a local channel for a nick's mode prefix); a CR
		 * inside would end the line early */
		g_strdelimit(text, "\r", ' ');
		result = send_raw(q, "PRIVMSG %s :%s\r\n", m->name, text);
	} else {
		/* the protocol takes markup (and converts it back to text) */
		g_autofree char *html = g_markup_escape_text(text, -1);
		result = serv_send_im(connection(q), m->name, html, PURPLE_MESSAGE_SEND);
	}
	if (result <= 0)
		return false;
	struct sent_line *s = g_new0(struct sent_line, 1);
	s->seq = m->seq;
	s->name = g_strdup(m->name);
	g_queue_push_tail(&q->unfenced, s);
	m->next++;
	return true;
}

/* "PING :ferry-N" after the lines written so far: its PONG confirms them. */
static void send_fence(struct sendq *q)
{
	PurpleConnection *gc = connection(q);
	PurplePlugin *prpl = gc != NULL ? purple_connection_get_prpl(gc) : NULL;
	PurplePluginProtocolInfo *info = prpl != NULL ? PURPLE_PLUGIN_PROTOCOL_INFO(prpl) : NULL;
	if (info == NULL || info->send_raw == NULL)
		return;
	guint32 fence = ++q->fences;
	g_autofree char *line = g_strdup_printf("PING :" FENCE_PREFIX "%u\r\n", fence);
	(void)info->send_raw(gc, line, (int)strlen(line));
	for (GList *l = q->unfenced.tail; l != NULL && ((struct sent_line *)l->data)->fence == 0;
	     l = l->prev)
		((struct sent_line *)l->data)->fence = fence;
	for (GList *l = q->awaiting.tail; l != NULL && ((struct qmsg *)l->data)->fence == 0;
	     l = l->prev)
		((struct qmsg *)l->data)->fence = fence;
}

/* Writes what the pace allows, then the fence, then the progress. */
static void pump(struct sendq *q)
{
	if (!account_is_connected(q->account))
		return;
	refill(q);
	bool finished = false, wrote = false;
	while (!g_queue_is_empty(&q->queue) && may_send(q)) {
		struct qmsg *m = g_queue_peek_head(&q->queue);
		if (!write_line(q, m)) {
			report_failure(q, m, WORKER_IM_FAILED, "the protocol refused a line");
			qmsg_free(g_queue_pop_head(&q->queue));
			continue;
		}
		wrote = true;
		if (q->interval > 0)
			q->tokens -= 1.0;
		if (m->next >= m->lines->len) {
			g_queue_push_tail(&q->awaiting, g_queue_pop_head(&q->queue));
			report_progress(q, m);
			finished = true;
		}
	}
	if (finished)
		send_fence(q); /* queued behind the lines: one flush sends both */
	if (wrote)
		quirks_flush_sends(q->account);
	struct qmsg *head = g_queue_peek_head(&q->queue);
	if (wrote && head != NULL && head->next > 0)
		report_progress(q, head);
	schedule(q);
}

/* ---- messages in ------------------------------------------------------------------ */

struct sendq *sendq_new(struct account *account)
{
	struct sendq *q = g_new0(struct sendq, 1);
	q->account = account;
	g_queue_init(&q->queue);
	g_queue_init(&q->awaiting);
	g_queue_init(&q->unfenced);
	/* The account's rate limit (prpl-irc defaults: 5 lines at once, then
	 * one every 2 s) is ours to apply from now on; the protocol's limiter
	 * is off, so nothing waits where we cannot see it. */
	PurpleAccount *pa = account_purple(account);
	int interval = purple_account_get_int(pa, "ratelimit-interval", 2);
	int burst = purple_account_get_int(pa, "ratelimit-burst", 5);
	q->interval = interval > 0 ? (guint)interval * 1000 : 0;
	q->burst = burst > 0 ? (guint)burst : 1;
	q->tokens = q->burst;
	q->refilled = g_get_monotonic_time();
	purple_account_set_int(pa, "ratelimit-interval", 0);
	g_debug("account %u: lines paced at %u ms, burst %u", account_id(account), q->interval,
	        q->burst);
	return q;
}

/* Lines waiting before a new message, for the estimate. */
static guint lines_waiting(struct sendq *q)
{
	guint n = 0;
	for (GList *l = q->queue.head; l != NULL; l = l->next) {
		const struct qmsg *m = l->data;
		n += m->lines->len - m->next;
	}
	return n;
}

static void push(struct sendq *q, guint32 seq, const char *name, const char *html,
                 guint32 max_lines, bool chat)
{
	guint32 id = account_id(q->account);
	struct qmsg *m = g_new0(struct qmsg, 1);
	m->seq = seq;
	m->name = g_strdup(name);
	m->echo = chat ? g_strdup(html) : NULL;
	/* exactly what the protocol would have made of the markup (ferry's
	 * plain text again, byte for byte: the offsets we report are its) */
	purple_markup_html_to_xhtml(html, NULL, &m->plain);
	if (m->plain == NULL)
		m->plain = g_strdup("");
	if (g_str_has_prefix(m->plain, ACTION_PREFIX)) {
		m->action = true;
		m->base = strlen(ACTION_PREFIX);
	}
	if (!g_utf8_validate(m->plain, -1, NULL)) {
		char *valid = g_utf8_make_valid(m->plain, -1);
		g_free(m->plain);
		m->plain = valid;
	}
	const char *nick = purple_connection_get_display_name(connection(q));
	gsize budget = linesplit_irc_budget(nick != NULL ? strlen(nick) : 0, name,
	                                    m->action ? strlen("\001ACTION \001") : 0);
	m->lines = linesplit(m->plain + m->base, budget);
	if (m->lines->len == 0) {
		channel_send(WORKER_FRAME(im_result, .account = id, .seq = seq, .sent = false,
		                          .reason = WORKER_IM_FAILED,
		                          .error = "the message has no text to send", .lines = 0));
		qmsg_free(m);
		return;
	}
	if (max_lines > 0 && m->lines->len > max_lines) {
		g_autofree char *error = g_strdup_printf(
		    "the message would take %u lines; the limit is %u", m->lines->len, max_lines);
		channel_send(WORKER_FRAME(im_result, .account = id, .seq = seq, .sent = false,
		                          .reason = WORKER_IM_TOO_LONG, .error = error,
		                          .lines = m->lines->len));
		qmsg_free(m);
		return;
	}
	refill(q);
	if (m->lines->len > 1) {
		double ahead = (double)(lines_waiting(q) + m->lines->len) - q->tokens;
		guint32 seconds = q->interval > 0 && ahead > 0
		                      ? (guint32)(ahead * q->interval / 1000.0 + 0.999)
		                      : 0;
		channel_send(WORKER_FRAME(im_queued, .account = id, .seq = seq,
		                          .lines = m->lines->len, .seconds = seconds));
	}
	if (WORKER_DEBUG_ON())
		g_debug("account %u: IM %u: %u lines of at most %zu bytes", id, seq, m->lines->len,
		        budget);
	/* prpl-irc writes a 401 into the conversation (which sendq_swallow_line
	 * then keeps from the user); without one it raises a notification */
	PurpleAccount *pa = account_purple(q->account);
	if (!chat && purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, name, pa) == NULL)
		purple_conversation_new(PURPLE_CONV_TYPE_IM, pa, name);
	g_queue_push_tail(&q->queue, m);
	pump(q);
}

void sendq_push(struct sendq *q, guint32 seq, const char *name, const char *html, guint32 max_lines)
{
	push(q, seq, name, html, max_lines, false);
}

void sendq_push_chat(struct sendq *q, guint32 seq, const char *room, const char *html,
                     guint32 max_lines)
{
	push(q, seq, room, html, max_lines, true);
}

/* A SEND_CHAT the server took: its echo (CHAT_MESSAGE with its seq), which
 * ferry reflects, before the IMS_SENT that covers it. */
static void echo(struct sendq *q, const struct qmsg *m)
{
	if (m->echo == NULL || m->failed)
		return;
	const char *nick = purple_connection_get_display_name(connection(q));
	account_emit(q->account,
	             WORKER_FRAME(chat_message, .account = account_id(q->account), .room = m->name,
	                          .nick = nick != NULL ? nick : "", .text = m->echo,
	                          .when = (gint64)time(NULL), .seq = m->seq, .flags = 0));
}

/* ---- what the server says ------------------------------------------------------------ */

static struct qmsg *find_msg(struct sendq *q, guint32 seq)
{
	GQueue *queues[] = {&q->awaiting, &q->queue};
	for (gsize i = 0; i < G_N_ELEMENTS(queues); i++)
		for (GList *l = queues[i]->head; l != NULL; l = l->next)
			if (((struct qmsg *)l->data)->seq == seq)
				return l->data;
	return NULL;
}

static void on_pong(struct sendq *q, guint32 fence)
{
	while (!g_queue_is_empty(&q->unfenced)) {
		struct sent_line *l = g_queue_peek_head(&q->unfenced);
		if (l->fence == 0 || l->fence > fence)
			break;
		sent_line_free(g_queue_pop_head(&q->unfenced));
	}
	while (!g_queue_is_empty(&q->awaiting)) {
		struct qmsg *m = g_queue_peek_head(&q->awaiting);
		if (m->fence == 0 || m->fence > fence)
			break;
		echo(q, m);
		if (!m->failed)
			account_sent(q->account, m->seq);
		qmsg_free(g_queue_pop_head(&q->awaiting));
	}
}

/* A 401 for NAME: the oldest unconfirmed line to NAME went nowhere. A 404
 * (CANNOT_SEND, cannot send to the channel NAME) likewise, with its text. */
static bool on_no_such_nick(struct sendq *q, const char *name, const char *text, bool cannot_send)
{
	for (GList *l = q->unfenced.head; l != NULL; l = l->next) {
		struct sent_line *s = l->data;
		if (g_ascii_strcasecmp(s->name, name) != 0)
			continue;
		guint32 seq = s->seq;
		sent_line_free(s);
		g_queue_delete_link(&q->unfenced, l);
		struct qmsg *m = find_msg(q, seq);
		if (m != NULL && !m->failed) {
			g_autofree char *error =
			    cannot_send
			        ? g_strdup_printf("%s: %s", name,
			                          *text != '\0' ? text : "cannot send to channel")
			        : g_strdup_printf("%s is not on the network (%s)", name,
			                          *text != '\0' ? text : "no such nick");
			/* the lines that went, went nowhere */
			m->next = 0;
			report_failure(
			    q, m, cannot_send ? WORKER_IM_FAILED : WORKER_IM_NO_RECIPIENT, error);
			GList *link = g_queue_find(&q->queue, m);
			if (link != NULL) { /* its other lines would fail too */
				g_queue_delete_link(&q->queue, link);
				qmsg_free(m);
			}
		}
		if (!cannot_send) {
			g_free(q->swallow);
			q->swallow = g_strdup(name);
		}
		return true;
	}
	return false;
}

/* Splits a raw IRC line, its ':' prefix already stripped (the only
 * caller takes lines starting with their command), into its command and
 * parameters (the trailing one included). */
static char **irc_params(const char *line, char **command)
{
	const char *trail = strstr(line, " :");
	g_autofree char *head =
	    trail != NULL ? g_strndup(line, (gsize)(trail - line)) : g_strdup(line);
	char **words = g_strsplit(head, " ", -1);
	if (words[0] == NULL) {
		g_strfreev(words);
		return NULL;
	}
	*command = g_strdup(words[0]);
	GPtrArray *params = g_ptr_array_new();
	for (char **w = words + 1; *w != NULL; w++)
		if (**w != '\0')
			g_ptr_array_add(params, g_strdup(*w));
	if (trail != NULL)
		g_ptr_array_add(params, g_strdup(trail + 2));
	g_ptr_array_add(params, NULL);
	g_strfreev(words);
	return (char **)g_ptr_array_free(params, FALSE);
}

void sendq_on_irc_line(struct sendq *q, const char *line)
{
	/* only what the queue waits for: the rest is not even split */
	if (!g_str_has_prefix(line, "PONG ") && !g_str_has_prefix(line, "401 ") &&
	    !g_str_has_prefix(line, "404 "))
		return;
	g_autofree char *command = NULL;
	g_auto(GStrv) params = irc_params(line, &command);
	if (params == NULL)
		return;
	guint n = g_strv_length(params);
	if (strcmp(command, "PONG") == 0 && n >= 1 &&
	    g_str_has_prefix(params[n - 1], FENCE_PREFIX)) {
		guint64 fence = 0;
		if (g_ascii_string_to_unsigned(params[n - 1] + strlen(FENCE_PREFIX), 10, 1,
		                               G_MAXUINT32, &fence, NULL))
			on_pong(q, (guint32)fence);
	} else if (strcmp(command, "401") == 0 && n >= 2) {
		(void)on_no_such_nick(q, params[1], n >= 3 ? params[2] : "", false);
	} else if (strcmp(command, "404") == 0 && n >= 2) {
		(void)on_no_such_nick(q, params[1], n >= 3 ? params[2] : "", true);
	}
}

bool sendq_swallow_line(struct sendq *q, const char *conversation)
{
	if (q == NULL || q->swallow == NULL || g_ascii_strcasecmp(q->swallow, conversation) != 0)
		return false;
	g_clear_pointer(&q->swallow, g_free);
	return true;
}

/* ---- the end ---------------------------------------------------------------------- */

void sendq_cancel(struct sendq *q)
{
	g_clear_handle_id(&q->timer, loop_timeout_remove);
	while (!g_queue_is_empty(&q->queue)) {
		struct qmsg *m = g_queue_pop_head(&q->queue);
		report_failure(q, m, WORKER_IM_CANCELLED, "cancelled before it was sent in full");
		qmsg_free(m);
	}
	/* the lines of a message cut short still get their PONG */
	if (!g_queue_is_empty(&q->unfenced) &&
	    ((struct sent_line *)g_queue_peek_tail(&q->unfenced))->fence == 0) {
		send_fence(q);
		quirks_flush_sends(q->account);
	}
}

void sendq_finish(struct sendq *q)
{
	g_clear_handle_id(&q->timer, loop_timeout_remove);
	/* written lines are not sent twice: what was written in full counts as
	 * sent, what was written in part says how far it went */
	while (!g_queue_is_empty(&q->awaiting)) {
		struct qmsg *m = g_queue_pop_head(&q->awaiting);
		echo(q, m);
		if (!m->failed)
			account_sent(q->account, m->seq);
		qmsg_free(m);
	}
	for (GList *l = q->queue.head; l != NULL; l = l->next) {
		struct qmsg *m = l->data;
		if (m->next > 0) {
			g_message("account %u: IM %u ends after %u of %u lines",
			          account_id(q->account), m->seq, m->next, m->lines->len);
			report_progress(q, m);
		}
	}
	g_queue_clear_full(&q->queue, qmsg_free);
	g_queue_clear_full(&q->unfenced, sent_line_free);
}

void sendq_free(struct sendq *q)
{
	if (q == NULL)
		return;
	g_clear_handle_id(&q->timer, loop_timeout_remove);
	g_queue_clear_full(&q->queue, qmsg_free);
	g_queue_clear_full(&q->awaiting, qmsg_free);
	g_queue_clear_full(&q->unfenced, sent_line_free);
	g_free(q->swallow);
	g_free(q);
}
