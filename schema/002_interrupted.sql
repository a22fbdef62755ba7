-- 002_interrupted.sql - the interrupted state for tasks and runs.
--
-- A task is interrupted when the process that ran it went away before the
-- run ended: the shell was quit, got SIGTERM or SIGHUP (the SSH session
-- dropped), or vanished (SIGKILL, power loss) and its lease expired.  An
-- interrupted task is final, like failed: it is never re-run by itself.
-- Running it again is a new plan version that needs a new approval.
-- A run row that was left open by such a process is closed as
-- interrupted, with the line count of the rows it really stored.

ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
	CHECK (status IN ('pending_approval', 'approved', 'queued',
	'running', 'succeeded', 'failed', 'canceled', 'timed_out', 'paused',
	'rejected', 'superseded', 'interrupted'));

INSERT INTO task_transitions (from_status, to_status) VALUES
	('running', 'interrupted'),
	('queued', 'interrupted'),
	('paused', 'interrupted');

CREATE OR REPLACE FUNCTION chiffon_task_terminal(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT s IN ('succeeded', 'failed', 'canceled', 'timed_out',
	    'rejected', 'superseded', 'interrupted')
$$;

ALTER TABLE plans DROP CONSTRAINT plans_status_check;
ALTER TABLE plans ADD CONSTRAINT plans_status_check
	CHECK (status IN ('pending_approval', 'approved', 'rejected',
	'superseded', 'running', 'succeeded', 'failed', 'canceled',
	'interrupted'));

ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
	CHECK (status IN ('running', 'successful', 'failed', 'timeout',
	'canceled', 'interrupted'));
