/*
 * reaper.h - removing finished messages beside the delivery, in a delivery worker.
 *
 * NAME
 *	reaper - a thread that unlinks finished messages and then releases their locks
 * DESCRIPTION
 *	On a file system that discards freed blocks synchronously (ext4 with online `discard`, as on the
 *	virtual disk this was measured on), freeing a message's file waits for the device, and a worker
 *	that removed each message inline spent more time waiting for that than talking SMTP. A
 *	worker hands each message that is done to its reaper instead and goes on with the next
 *	transaction; the reaper removes it (spool_msg_done: envelope, then data) and closes the data file,
 *	so the message stays locked until its files are gone.
 *	Durability is the same as removing inline (removals are never fsynced one by one; the pass
 *	syncs the spool once at its end): a crash, or a SIGKILL while removals are still queued, leaves the
 *	message queued, and the next run sends it again; it is never lost.
 * THREADS
 *	The reaper thread blocks every signal, so signals (SIGTERM of the periodic runner) reach the worker's
 *	own thread. It only calls spool_msg_done, spool_msg_unlock and log_msg.
 */
#ifndef POSTERN_REAPER_H
#define POSTERN_REAPER_H

#include <stddef.h>

#include "lib/log.h"
#include "queue/store/spool.h"

struct reaper;

/* reaper_start - a reaper for at most `max` messages. NULL if no thread could be started (the caller
 * then removes inline). */
struct reaper *reaper_start(struct log *lg, size_t max);

/* reaper_add - remove m (its envelope and data) and then unlock and free it, in the background. m
 * belongs to the reaper from here. Beyond `max`, m is removed at once. */
void reaper_add(struct reaper *r, struct spool_msg *m);

/* reaper_finish - wait until everything added is removed, stop the thread and free r. */
void reaper_finish(struct reaper *r);

/* reaper_remove - remove, log and unlock one message in the calling thread (what the reaper does). */
void reaper_remove(struct log *lg, struct spool_msg *m);

#endif
