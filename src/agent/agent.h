/*
 * agent: the role that runs on the machine doing the work ("frugal agent").
 *
 * The controller (or a cloud's boot script) starts it as
 *
 *     frugal agent --instance-dir DIR
 *
 * in a session of its own. DIR holds agent.json (mode 0600), written by
 * whoever launched the instance; its fields are in contract/agentdoc.h.
 * Secret values are NOT in agent.json: they arrive in the agent's own
 * environment under their names (task.secrets lists the names) and reach
 * the job through its environment only.
 *
 * What the agent does, in order:
 *  1. copies task.workdir into work_dir (.gitignore/.frugalignore honoured)
 *     and restores the newest complete checkpoint of the job into
 *     checkpoint_dir ("frugal: checkpoint N restored (F files, B bytes)" or
 *     "frugal: no checkpoint to restore"); a storage that cannot be read
 *     fails the attempt rather than start the job afresh;
 *  2. runs `setup`, then `run`, each with /bin/sh -c in a process group of
 *     its own, with the environment of docs/product.md and only
 *     descriptors 0, 1 and 2 open (whatever the agent inherited is
 *     close-on-exec, base/proc.h); every line of
 *     stdout/stderr is appended with a timestamp to the storage object
 *     JOB_PREFIX/logs/attempt-N.log as "2026-11-22T08:15:03.123Z TEXT";
 *     the agent's own messages are lines starting "frugal: ";
 *  3. enforces stop.max_runtime (signal, grace, SIGKILL -> timed_out) and
 *     stop.on_output (a matching file appears -> stop the job, succeeded);
 *     SIGTERM/SIGINT to the agent is a cancel (job killed -> cancelled;
 *     only SIGINT where the backend watches SIGTERM as a preemption
 *     notice, notice_sigterm_is_notice());
 *     stores everything under checkpoint_dir every task.checkpoint.interval
 *     as a checkpoint (checkpoint.h: JOB_PREFIX/checkpoints/, incremental,
 *     a manifest written last, task.checkpoint.keep kept);
 *  3b. on a preemption notice (notice.h: INSTANCE_DIR/notice.json +
 *     SIGUSR2 for local, SIGUSR1 to the agent) sends
 *     recovery.preemption_signal to the job's process group (phase
 *     "stopping"), SIGKILLs it when 20% of the window (1 s..10 s) is
 *     left, stores a last checkpoint and ends the attempt as "preempted"
 *     (exit_code: the job's own, null when it was killed; reason
 *     "preempted (notice from debug, 5s window)"), without outputs;
 *     a last checkpoint is also stored after a max_runtime stop and after
 *     a failure that may be restarted (recovery.max_restarts_on_errors or
 *     recover_on_exit_codes);
 *  4. copies outputs.paths (globs relative to work_dir) and everything
 *     under output_dir to outputs_url, never replacing an existing object
 *     (storage_put_file_versioned);
 *  5. writes JOB_PREFIX/attempts/N/status.json (contract/status.h;
 *     atomically, on every phase change and as a heartbeat every few
 *     seconds) and after each write sends
 *     "wake JOB_ID\n" to controller_socket when one is given;
 *  6. once the final status is stored (retried with growing pauses for
 *     up to stop.orphan_timeout while the storage fails), kills what is
 *     left in the job's process groups and ends its machine the backend's
 *     way (machine.h; local: removes INSTANCE_DIR), then exits: 0 when the
 *     final status was stored, 1 when it could not be.
 *
 * Fault points (FRUGAL_FAULT, base/fault.h): "agent.checkpoint.after_objects"
 * (a checkpoint's objects stored, its manifest not), "agent.before_outputs"
 * (reached at every attempt's end, preempted ones too, before the outputs
 * would be stored), "agent.after_final_status" (final status stored,
 * machine not ended).
 */
#ifndef FRUGAL_AGENT_AGENT_H
#define FRUGAL_AGENT_AGENT_H

/* Entry point of "frugal agent"; returns the process exit status. */
int agent_main(int argc, char **argv);

#endif
