-- 008_gate_skip_tags.sql - the gate also guards tasks.skip_tags (schema
-- 006 added the column after 005 wrote the gate): the runtime role may not
-- change a step's --skip-tags, nor the playbook hash history keeps.
CREATE OR REPLACE FUNCTION chiffon_tasks_gate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF chiffon_privileged(TG_RELID) THEN
		RETURN NEW;
	END IF;
	IF NEW.status IS DISTINCT FROM OLD.status AND
	    (NEW.status IN ('approved', 'running') OR
	    (NEW.status = 'queued' AND OLD.status <> 'running')) THEN
		RAISE EXCEPTION 'task %: role % may not move a task % -> % '
		    'itself; approving, queueing and claiming go through '
		    'chiffon_approve, chiffon_queue_task and chiffon_claim_task',
		    OLD.id, current_user, OLD.status, NEW.status
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF (NEW.plan_id, NEW.step, NEW.action, NEW.service, NEW.playbook,
	    NEW.targets, NEW.tags, NEW.extra_vars, NEW.check_mode,
	    NEW.depends_on, NEW.capability, NEW.resources, NEW.skip_tags,
	    NEW.playbook_sha256)
	    IS DISTINCT FROM (OLD.plan_id, OLD.step, OLD.action, OLD.service,
	    OLD.playbook, OLD.targets, OLD.tags, OLD.extra_vars,
	    OLD.check_mode, OLD.depends_on, OLD.capability, OLD.resources,
	    OLD.skip_tags, OLD.playbook_sha256) THEN
		RAISE EXCEPTION 'task %: role % may not change what a task runs',
		    OLD.id, current_user USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END;
$$;
