/* workers: ferry's side of the ferry-worker processes — spawning them with
 * a socketpair (the worker's end is its fd 3), assigning accounts to them
 * (at most users_per_worker each), framing messages (worker_protocol.h),
 * and noticing when one dies or misbehaves.
 *
 * A dead worker (crash, SIGKILL, a malformed frame — ferry kills a worker
 * that sends one) is reported per account through account_lost; the owner
 * logs those accounts in again, and the next login spawns a fresh worker.
 * A worker left without accounts is stopped after a grace period.
 */
#ifndef FERRY_WORKERS_H
#define FERRY_WORKERS_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "ferry/worker_describe.h"
#include "ferry/worker_msgs.h"

struct workers;

struct workers_callbacks {
	/* An event (WORKER_CONNECTED, ...) for ACCOUNT. PAYLOAD is borrowed
	 * and already checked against the catalogue. */
	void (*event)(void *user_data, guint32 account, guint32 type, GVariant *payload);
	/* ACCOUNT's worker died; the account is gone (no logout needed). */
	void (*account_lost)(void *user_data, guint32 account);
	/* Optional: DEATHS workers died within SECONDS (WORKERS_CRASH_LOOP_*),
	 * a crash loop; told once per loop (again once a window passed
	 * since). */
	void (*crash_loop)(void *user_data, guint deaths, guint seconds);
};

/* What a crash loop is: this many worker deaths within this many seconds. */
#define WORKERS_CRASH_LOOP_DEATHS 3
#define WORKERS_CRASH_LOOP_SECONDS (10 * 60)

/* One running worker process, for the admins. */
struct workers_process {
	int pid;
	guint accounts; /* hosted now */
	guint64 rss_kb; /* resident memory (/proc/<pid>/statm); 0: unknown */
};

struct workers_options {
	const char *program;     /* the ferry-worker binary */
	guint users_per_worker;  /* accounts per process */
	guint min_workers;       /* started at once and kept running, even empty */
	const char *ca_file;     /* extra CA for legacy TLS, or NULL */
	guint idle_stop_seconds; /* stop an empty worker after this; 0: 30 */
	guint login_timeout;     /* seconds; passed to the worker; 0: its default */
	/* ferry runs as root: each worker runs as this user (no supplementary
	 * groups), its private directory owned by it. Otherwise workers run as
	 * ferry's user. See worker_user.h. */
	bool switch_user;
	uid_t uid;
	gid_t gid;
	/* Internal addresses the workers may connect to (netpolicy.h:
	 * regform_allowed_servers()); NULL: none. Copied. */
	const char *const *allowed_servers;
};

struct workers *workers_new(const struct workers_options *options,
                            const struct workers_callbacks *callbacks, void *user_data);

/* Stops every worker (asks them to shut down, then kills those still
 * running after a short grace) and frees. NULL is a no-op. */
void workers_free(struct workers *workers);

/* Starts LOGIN (its account member ignored) in a worker with room
 * (spawning one if needed). The password is not kept. Returns the new
 * account id, or 0 with ERROR set when no worker could be started. */
guint32 workers_login(struct workers *workers, const struct worker_msg_login *login,
                      GError **error);

/* Sends FRAME (taken) to the worker of its account. false when the account
 * is unknown (its worker died). */
bool workers_send(struct workers *workers, GBytes *frame);

/* While HOLD, frames for the workers are queued, not written; releasing
 * writes each worker's queue with as few system calls as it takes. */
void workers_hold(struct workers *workers, bool hold);

/* Logs ACCOUNT out. Its events still come until its DISCONNECTED (reason
 * LOGOUT: the worker's last word on its messages), which always comes --
 * from the worker, or from the pool when the worker died or did not answer
 * within 10 s; then it is forgotten. Commands for it are refused meanwhile.
 * An account whose DISCONNECTED came already is forgotten at once.
 * Unknown accounts are ignored. */
void workers_logout(struct workers *workers, guint32 account);

/* True while ACCOUNT, logged out, waits for its DISCONNECTED (LOGOUT). */
bool workers_leaving(struct workers *workers, guint32 account);

/* Delivers now the acknowledgements and progress reports ACCOUNT's worker
 * has written (its acknowledgement socket is otherwise read once a
 * second). */
void workers_sync(struct workers *workers, guint32 account);

/* The running workers (struct workers_process, in start order; caller
 * frees the array) and in *DEATHS how many died since the start (crashed,
 * killed for a fault; not those stopped when idle or at the end). */
GArray *workers_stats(const struct workers *workers, guint *deaths);

/* The worker program ferry uses by default: the one next to the running
 * binary when there is one (a build tree), else the installed one. Caller
 * frees. */
char *workers_default_program(void);

/* Runs PROGRAM --describe PROTOCOL (as USER when it says to switch; NULL:
 * as ferry) and returns the parsed description, or NULL with ERROR set.
 * Caller frees. */
struct worker_user;
struct worker_description *workers_describe(const char *program, const char *protocol,
                                            const struct worker_user *user, GError **error);

#endif
