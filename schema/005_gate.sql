-- 005_gate.sql - the approval gate bound to content.
--
-- approvals.content: what an approval approved, per task: the SHA-256 of
-- the task's inputs (capability, action, playbook path, the playbook
-- file's SHA-256, inventory, limit, tags, skip-tags, extra vars, check
-- mode) as the approving chiffon saw them, and those inputs.  A worker
-- computes the hash again when it claims the task and refuses a task
-- whose hash differs (the task fails with "approval does not match: ..."
-- and a task.refused audit row).  See chiffon-schema(7).

ALTER TABLE approvals ADD COLUMN content jsonb;

-- A queued task refused at its claim never ran: it fails from queued.
INSERT INTO task_transitions (from_status, to_status) VALUES
	('queued', 'failed');
