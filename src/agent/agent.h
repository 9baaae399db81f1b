/*
 * agent: the role that runs on the machine doing the work ("frugal agent").
 *
 * The controller (or a cloud's boot script) starts it as
 *
 *     frugal agent --instance-dir DIR
 *
 * in a session of its own. DIR holds agent.json (mode 0600), written by
 * whoever launched the instance:
 *
 *   {
 *     "job_id": "k3m9xq", "attempt": 1, "restart_count": 0,
 *     "backend": "local",
 *     "storage_url": "file:///home/u/.frugal/storage",
 *     "job_prefix": "jobs/k3m9xq",             storage prefix of the job
 *     "controller_socket": "/home/u/.frugal/controller.sock",   optional
 *     "gpus": ["0", "1"],                        CUDA_VISIBLE_DEVICES
 *     "work_dir": "DIR/work",                    cwd of setup and run
 *     "checkpoint_dir": "DIR/checkpoint",        $FRUGAL_CHECKPOINT_DIR
 *     "output_dir": "DIR/outputs",               $FRUGAL_OUTPUT_DIR
 *     "outputs_url": "file:///…/jobs/k3m9xq/outputs",   where outputs go
 *     "task": { …task_to_json()… }
 *   }
 *
 * Secret values are NOT in agent.json: they arrive in the agent's own
 * environment under their names (task.secrets lists the names) and reach
 * the job through its environment only.
 *
 * What the agent does, in order:
 *  1. copies task.workdir into work_dir (.gitignore/.frugalignore honoured);
 *  2. runs `setup`, then `run`, each with /bin/sh -c in a process group of
 *     its own, with the environment of docs/product.md; every line of
 *     stdout/stderr is appended with a timestamp to the storage object
 *     JOB_PREFIX/logs/attempt-N.log as "2026-11-22T08:15:03.123Z TEXT";
 *     the agent's own messages are lines starting "frugal: ";
 *  3. enforces stop.max_runtime (signal, grace, SIGKILL -> timed_out) and
 *     stop.on_output (a matching file appears -> stop the job, succeeded);
 *     SIGTERM/SIGINT to the agent is a cancel (job killed -> cancelled);
 *  4. copies outputs.paths (globs relative to work_dir) and everything
 *     under output_dir to outputs_url, never replacing an existing object
 *     (storage_put_file_versioned);
 *  5. writes JOB_PREFIX/attempts/N/status.json (atomically, on every phase
 *     change and as a heartbeat every few seconds):
 *       {"job_id", "attempt", "phase": "starting|setup|running|stopping|
 *        uploading|exited", "agent_pid", "job_pgid", "started_at",
 *        "heartbeat_at", "ended_at", "outcome": null|"succeeded"|"failed"|
 *        "cancelled"|"timed_out"|"preempted", "exit_code": null|int,
 *        "reason": "…", "outputs": ["weights/model.pth", …]}
 *     (times are Unix milliseconds) and after each write sends
 *     "wake JOB_ID\n" to controller_socket when one is given;
 *  6. exits 0 once the final status is stored.
 */
#ifndef FRUGAL_AGENT_AGENT_H
#define FRUGAL_AGENT_AGENT_H

/* Entry point of "frugal agent"; returns the process exit status. */
int agent_main(int argc, char **argv);

#endif
