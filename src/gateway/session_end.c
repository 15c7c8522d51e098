/* session_end: the ways a session ends other than a plain logout. The user
 * left with messages still going out (draining), an unregistration that
 * waits for the worker's word on them, the connection cut under a drain,
 * quarantine after crashes, and the logout after a stall. The rest of the
 * session is session.c's; they share struct session (internal.h). */
#include "config.h"
#include "internal.h"
#include "cmd.h" /* C2: cmds_admin_alert */

#define STALL_RETRY_MS 5000
/* How long an unregistration waits for the worker to confirm the lines it
 * had written (their PONG) before it goes on regardless. */
#define LEAVE_WAIT_SECONDS 10

/* ---- draining: the user has gone, lines are still queued ----------------------------------
 *
 * When the last resource goes unavailable while messages are in flight
 * (a long message is still being paced out, line by line), the legacy
 * login stays until they are sent, so that nothing the user wrote is cut
 * off; bounded by the outbox's expiry, after which what is left is
 * reported (a chat message from the transport, which the server stores
 * for the offline user). A resource coming back ends the drain: the
 * session simply goes on. */

static gboolean drain_expired(gpointer data)
{
	struct session *s = data;
	s->drain_timer = 0;
	s->draining = false;
	g_warning("session: %s: messages still unsent %d s after the user left: reported", s->jid,
	          GATEWAY_OUTBOX_MAX_AGE_SECONDS);
	/* as an unregistration: the rest is cancelled, the worker says how
	 * far each message went, then the logout and the report */
	g_autofree char *why =
	    g_strdup_printf("it could not be sent within %d minutes of your going offline",
	                    GATEWAY_OUTBOX_MAX_AGE_SECONDS / 60);
	session_unregister(s, why, NULL, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean drain_done(gpointer data)
{
	struct session *s = data;
	s->drain_timer = 0;
	s->draining = false;
	g_info("session: %s: every message sent; logging out now", s->jid);
	session_logout(s, NULL);
	return G_SOURCE_REMOVE;
}

void session_start_drain(struct session *s)
{
	g_info("session: %s: the user left with messages in flight: staying logged in until "
	       "they are sent",
	       s->jid);
	s->draining = true;
	g_clear_handle_id(&s->drain_timer, g_source_remove);
	s->drain_timer = g_timeout_add_seconds(GATEWAY_OUTBOX_MAX_AGE_SECONDS, drain_expired, s);
}

void session_stop_drain(struct session *s)
{
	s->draining = false;
	g_clear_handle_id(&s->drain_timer, g_source_remove);
}

static gboolean leave_now(gpointer data);

void session_drained(struct session *s)
{
	if (s->leaving) {
		g_clear_handle_id(&s->leaving_timer, g_source_remove);
		s->leaving_timer = g_idle_add(leave_now, s);
		return;
	}
	if (!s->draining || session_user_available(s))
		return;
	/* not from inside the event that told us: the logout reads the
	 * worker's acknowledgements, which dispatch events again */
	g_clear_handle_id(&s->drain_timer, g_source_remove);
	s->drain_timer = g_idle_add(drain_done, s);
}

static void finish_leaving(struct session *s, const char *why)
{
	/* logout first: the worker's last progress says how much of each
	 * message went; then every message is answered while the user's
	 * resources are still subscribed to hear it */
	session_forget_account(s);
	messages_fail_inflight(s, why);
	session_logout(s, NULL);
	messages_bounce_all(s, why);
}

static gboolean leave_now(gpointer data)
{
	struct session *s = data;
	s->leaving_timer = 0;
	g_autofree char *why = g_steal_pointer(&s->leaving_why);
	void (*done)(void *) = s->leaving_done;
	void *done_data = s->leaving_data;
	GDestroyNotify done_free = s->leaving_free;
	s->leaving = false;
	s->leaving_done = NULL;
	s->leaving_free = NULL;
	finish_leaving(s, why);
	if (done == NULL) {
		/* a drain that ran out of time: a user back meanwhile goes on */
		if (session_user_available(s))
			session_login(s);
		return G_SOURCE_REMOVE;
	}
	done(done_data); /* may free the session */
	if (done_free != NULL)
		done_free(done_data);
	return G_SOURCE_REMOVE;
}

bool session_leaving(const struct session *s)
{
	return s->leaving;
}

const char *session_leaving_why(const struct session *s)
{
	return s->leaving_why;
}

void session_unregister(struct session *s, const char *why, void (*done)(void *data), void *data,
                        GDestroyNotify free_data)
{
	/* Lines still queued in the worker are cancelled first, and the
	 * logout waits for the worker's word on each message (sent, or how
	 * far it went): a logout sent with the messages would close the IRC
	 * connection under lines just written, and the report could not say
	 * what went. */
	if (s->state == SESSION_ONLINE && messages_pending(s) &&
	    LEGACY_SEND(s->ctx->legacy, cancel_ims, .account = s->account)) {
		g_info("session: %s: unregistering: waiting for the worker's word on the messages "
		       "in flight",
		       s->jid);
		s->leaving = true;
		s->leaving_why = g_strdup(why);
		s->leaving_done = done;
		s->leaving_data = data;
		s->leaving_free = free_data;
		s->leaving_timer = g_timeout_add_seconds(LEAVE_WAIT_SECONDS, leave_now, s);
		return;
	}
	finish_leaving(s, why);
	if (done != NULL)
		done(data);
	if (free_data != NULL)
		free_data(data);
}

/* The user had gone, leaving lines to send, and the connection went: no
 * session will send the rest, so each message is answered now with how
 * much of it went (chat messages from the transport, kept offline). */
void session_drain_cut(struct session *s, const char *what)
{
	g_info("session: %s: %s while the user's messages were still going out", s->jid, what);
	g_autofree char *why =
	    g_strdup_printf("%s while it was being sent, after you had gone offline", what);
	session_stop_drain(s);
	finish_leaving(s, why);
}

/* The account's worker died twice with its messages in flight, the
 * second time hosting it alone (workers.c): one of them kills workers.
 * Each is answered (none is sent again) and the account stays offline
 * until the user comes online anew or registers again, so that it cannot
 * take a shared worker down with it. */
void session_quarantine(struct session *s, const char *text)
{
	const char *protocol = regform_protocol_name(s->ctx->form);
	g_warning("session: %s: quarantined: %s", s->jid, text);
	/* C2: the admins hear of it */
	g_autofree char *alert = g_strdup_printf("%s was quarantined: %s", s->jid, text);
	cmds_admin_alert(s->ctx, alert);
	g_autofree char *why = g_strdup_printf("not sent: %s; it is not sent again", text);
	session_stop_drain(s);
	g_clear_handle_id(&s->left_wait, g_source_remove);
	session_forget_account(s);
	messages_fail_inflight(s, why);
	messages_bounce_all(s, why);
	contacts_all_offline(s);
	rooms_end_all(s, "333"); /* no rejoin will come */
	g_autofree char *tell = g_strdup_printf(
	    "Your %s connection was stopped: %s, so the messages that were being sent were "
	    "returned to you. Your account stays offline until you come online again or "
	    "register again.",
	    protocol, text);
	out_tell_user(s->ctx->router, s->jid, tell);
	if (!session_user_available(s)) {
		session_logout(s, NULL);
		return;
	}
	s->state = SESSION_FAILED;
	g_free(s->failure);
	s->failure = g_strdup(text);
	session_send_transport_presence(s, NULL);
}

/* Reading stopped too long (backpressure): the legacy network would drop
 * the account unannounced (an IRC server after a couple of minutes without
 * a PONG). Logged out instead, with a notice the server keeps offline;
 * back when the link is (the probe at link up), or a moment later while
 * the link is up (only this account's events waited, or the server read
 * slowly: nothing else would bring it back). */
void session_on_stalled(struct session *s, enum legacy_stall why)
{
	const char *net = regform_protocol_name(s->ctx->form);
	bool link_down = why == LEGACY_STALL_LINK_DOWN;
	static const char *const tell[] = {
	    [LEGACY_STALL_OWN] = "your XMPP server was not taking your messages",
	    [LEGACY_STALL_QUEUE] = "your XMPP server was reading too slowly from it",
	    [LEGACY_STALL_LINK_DOWN] = "its link to your XMPP server was down",
	};
	static const char *const log[] = {
	    [LEGACY_STALL_OWN] = "its events were not taken",
	    [LEGACY_STALL_QUEUE] = "the XMPP server read slowly",
	    [LEGACY_STALL_LINK_DOWN] = "the XMPP link is down",
	};
	g_autofree char *text = g_strdup_printf(
	    "%s: the transport left %s because %s for too long. Messages sent to you on %s "
	    "while it was waiting may be missing. It logs you in again %s.",
	    net, net, tell[why], net, link_down ? "when the link is back" : "in a moment");
	g_info("session: %s: logged out of %s after a stall (%s)", s->jid, net, log[why]);
	session_logout(s, "stalled");
	out_tell_user(s->ctx->router, s->jid, text);
	if (!link_down && session_user_available(s))
		session_schedule_retry(s, STALL_RETRY_MS + g_random_int_range(0, 1000));
}
