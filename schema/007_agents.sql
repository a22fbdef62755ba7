-- 007_agents.sql - agents as `chiffon agent` registers them: pool, labels,
-- the stable machine id, the heartbeat interval the agent promised, and
-- when its metrics were last collected.
--
-- An agent is offline once it has been silent for three of its own
-- heartbeat intervals (heartbeat_s); any chiffon process that notices
-- marks it so (chiffon_agents_sweep).  agent_metrics is the bounded
-- history of what the agents reported; `chiffon db prune` drops rows
-- older than agent.metrics_retention.

ALTER TABLE agents
	ADD COLUMN pool text NOT NULL DEFAULT 'default'
		CHECK (pool <> ''),
	ADD COLUMN labels text[] NOT NULL DEFAULT '{}',
	ADD COLUMN machine_id text,
	ADD COLUMN kind text NOT NULL DEFAULT 'worker'
		CHECK (kind IN ('worker', 'agent')),
	ADD COLUMN heartbeat_s double precision NOT NULL DEFAULT 30
		CHECK (heartbeat_s > 0),
	ADD COLUMN metrics_at timestamptz;
CREATE INDEX agents_pool_idx ON agents (pool);
CREATE INDEX agent_metrics_at_idx ON agent_metrics (at);

-- What a playbook's steps need from the agent that runs them, from its
-- "# chiffon:needs=gpu:8GB,cores:4" comment.  Cached playbooks are
-- parsed again (their hash no longer matches) so the comment is read.
ALTER TABLE playbooks ADD COLUMN needs text;
UPDATE playbooks SET sha256 = 'reparse: schema 007';

-- Mark the agents silent for three heartbeat intervals offline; returns
-- their names.
CREATE FUNCTION chiffon_agents_sweep() RETURNS SETOF text
LANGUAGE sql AS $$
	UPDATE agents SET status = 'offline', running = 0
	WHERE status <> 'offline'
	AND last_heartbeat < now() - make_interval(secs => 3 * heartbeat_s)
	RETURNING name
$$;
