-- 006_real_repos.sql - services below the playbook, skip tags, and a
-- history that survives a renamed or deleted playbook.
--
-- playbooks.detail holds what the catalog found inside a playbook: its
-- services (roles, imports, features, apps, tags with what selects
-- each), the variable names it declares, its imports, requirements that
-- are not installed and flags (become, vars_prompt, vault).
-- tasks.skip_tags is --skip-tags of a step; tasks.playbook_sha256 the
-- content hash of the playbook when the step was planned, so that the
-- history keeps path and hash after the file is gone.  The foreign key
-- from tasks to playbooks went: ON DELETE SET NULL could not touch a
-- task in a final state, which made every renamed playbook that had
-- ever run block the catalog.

ALTER TABLE playbooks ADD COLUMN detail jsonb NOT NULL DEFAULT '{}';
ALTER TABLE tasks ADD COLUMN skip_tags text[] NOT NULL DEFAULT '{}';
ALTER TABLE tasks ADD COLUMN playbook_sha256 text;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_playbook_id_fkey;
ALTER TABLE playbook_mappings ADD COLUMN service text;
