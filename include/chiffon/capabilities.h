/*
 * chiffon/capabilities.h - the names of the capabilities chiffon's host
 * asks plugins for, and the JSON each one takes and gives back.  The host
 * (invoking) and the plugins (registering) both use these names, so the
 * contract between them is written once.
 *
 * Every capability is invoked with a JSON object of parameters (host
 * ->task_params) and finishes with host->task_finish(task, STATUS, RESULT),
 * STATUS one of "successful", "failed", "timeout", "canceled" and RESULT a
 * JSON object.  A result of a task that did not succeed carries "error"
 * (one line for the admin).  Unknown members are ignored by both sides,
 * so either may add members; removing or changing one is a change of
 * this contract and is written here first.
 */
#ifndef CHIFFON_CAPABILITIES_H
#define CHIFFON_CAPABILITIES_H

/*
 * "ansible" (infra plugin): run one playbook with ansible-playbook and
 * record it as a run of kind CHIFFON_RUN_KIND_PLAYBOOK.
 *
 * Params: {"playbook": PATH (relative to repo, or absolute),
 *          "repo": DIR (default: ansible.repo),
 *          "inventory": PATH, "limit": TEXT|[TEXT...],
 *          "tags": TEXT|[...], "skip_tags": TEXT|[...],
 *          "extra_vars": {...}, "check": BOOL,
 *          "timeout_s": SECONDS (default: ansible.timeout; 0: none),
 *          "agent", "attempt", "claim_token": the claim (dispatch)}
 * Result: the run summary (below) plus, when linted after a failure,
 *         "suggestions": N or "lint_error": TEXT, and "error" unless
 *         successful.
 *
 * The run summary, also stored in runs.summary and read by the host
 * with run_summary_read (src/run-summary.c):
 *   {"status": TEXT, "exit_code": N, "duration_s": S,
 *    "hosts": {HOST: {"ok": N, "changed": N, "failed": N,
 *                     "unreachable": N, "skipped": N, "rescued": N,
 *                     "ignored": N}},
 *    "stats_source": "playbook_on_stats"|"events",
 *    "failed_tasks": [...], "changed_tasks": [...], "files": [...],
 *    "services": [...], "no_hosts_matched": BOOL, "events": N}
 * A failed result with "retryable": true may be retried by dispatch.
 */
#define CHIFFON_CAP_ANSIBLE		"ansible"
#define CHIFFON_RUN_KIND_PLAYBOOK	"ansible-playbook"

/*
 * "ansible.catalog" (infra plugin): the catalog of ansible.repo.
 *
 * Params: {"refresh": BOOL (false: serve the catalog in memory),
 *          "full": BOOL (parse every file again)}
 * Result: {"playbooks": [...], "roles": [...], "skipped": [...],
 *          "hosts": [...], "groups": {...}, "stats": {...}}; the
 *         playbooks are stored in the playbooks table as well.
 */
#define CHIFFON_CAP_ANSIBLE_CATALOG	"ansible.catalog"

/*
 * "ansible.match" (infra plugin): the service of the catalog an intent
 * names.
 *
 * Params: {"text": TEXT, "action": TEXT, "targets": [TEXT...]}
 * Result: {"match": null or the service with "confidence" and "method"
 *          (exact, mapping, lexical), "candidates": [services with their
 *          "confidence"; three when there is no match], "action": TEXT,
 *          "phrase": TEXT}
 */
#define CHIFFON_CAP_ANSIBLE_MATCH	"ansible.match"

/*
 * "ansible.lint" (infra plugin): ansible-lint suggestions for a playbook,
 * stored in playbook_suggestions.
 *
 * Params: {"playbook": PATH, "repo": DIR, "task_id": ID, "run_id": ID}
 * Result: {"findings": N (-1: not run), "missing": BOOL (ansible-lint
 *          could not be started), "suggestions": [{"rule", "severity",
 *          "category", "reason", "file", "line"}...],
 *          "error" or "store_error": TEXT}
 */
#define CHIFFON_CAP_ANSIBLE_LINT	"ansible.lint"

/*
 * "template.preview" and "template.generate" (template plugin): scaffold
 * a new service in the repository's layout.
 *
 * Params: {"service": NAME, "port": N, "image": TEXT, "host": GROUP,
 *          "force": BOOL, "repo": DIR, "layout": TEXT}, each also read
 *         from "extra_vars" (a plan's generate step carries them there).
 * Result of preview: {"service", "role", "layout", "style", "playbook",
 *         "hosts", "files": [{"path", "action", "diff", "sha256",
 *         "content"}...]}; nothing is written.
 * Result of generate: the same, "repo", "validation" (each step run as a
 *         run of kind CHIFFON_RUN_KIND_TEMPLATE) and "repo_commit":
 *         {"paths": [...], "message": TEXT}, which the host commits.
 */
#define CHIFFON_CAP_TEMPLATE_PREVIEW	"template.preview"
#define CHIFFON_CAP_TEMPLATE_GENERATE	"template.generate"
#define CHIFFON_RUN_KIND_TEMPLATE	"template.validate"

/*
 * "metrics" (desktop-metrics plugin): what this machine can take.
 *
 * Params: none ({}).
 * Result: load, cores, memory, disks and GPUs as documented in
 *         chiffon(1) under `chiffon agent`, with the flat keys dispatch
 *         compares with a task's resources: cpu, cpu_free, mem_mb,
 *         mem_mb_free, gpu_mem_mb, gpu_mem_mb_free, disk_mb,
 *         disk_mb_free; a value that could not be read is null, and
 *         "gpu_error" says why a GPU could not be asked.
 */
#define CHIFFON_CAP_METRICS		"metrics"

#endif /* CHIFFON_CAPABILITIES_H */
