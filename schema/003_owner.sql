-- 003_owner.sql - a plan approved in a shell runs on that shell's worker.
--
-- work_queue.owner_agent names the agent (agents.name) that alone may
-- claim the row; NULL lets any worker with the capability claim it.  It
-- is filled on insert from the session setting chiffon.owner_agent,
-- which the shell sets around its approval (dispatch_set_owner), so the
-- approval and the queueing stay the one transaction they are.
--
-- runs.agent and runs.attempt are filled on insert, when the client did
-- not, from the work_queue row of the task being run (its claimer and
-- attempt).

ALTER TABLE work_queue ADD COLUMN owner_agent text;

CREATE FUNCTION chiffon_work_queue_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.owner_agent IS NULL THEN
		NEW.owner_agent := NULLIF(current_setting('chiffon.owner_agent',
		    true), '');
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER work_queue_owner BEFORE INSERT ON work_queue
	FOR EACH ROW EXECUTE FUNCTION chiffon_work_queue_owner();

CREATE FUNCTION chiffon_runs_agent() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	who	text;
	n	integer;
BEGIN
	IF NEW.task_id IS NOT NULL AND (NEW.agent IS NULL OR
	    NEW.attempt IS NULL) THEN
		SELECT q.claimed_by, NULLIF(q.attempts, 0) INTO who, n
		    FROM work_queue q WHERE q.task_id = NEW.task_id;
		NEW.agent := coalesce(NEW.agent, who);
		NEW.attempt := coalesce(NEW.attempt, n);
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER runs_agent BEFORE INSERT ON runs
	FOR EACH ROW EXECUTE FUNCTION chiffon_runs_agent();
