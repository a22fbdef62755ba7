-- 012_task_created_notify.sql - a new task is announced like a changed
-- one: NOTIFY chiffon_task '<task id> pending_approval' once its row is
-- in (the transition trigger of schema 001 notifies updates only), so
-- that other sessions see a plan as soon as it is stored.
CREATE FUNCTION chiffon_tasks_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('chiffon_task', NEW.id::text || ' ' || NEW.status);
	RETURN NULL;
END;
$$;
CREATE TRIGGER tasks_created AFTER INSERT ON tasks
	FOR EACH ROW EXECUTE FUNCTION chiffon_tasks_created();
