#include "store/schema.h"

#include <string>
#include <vector>

namespace pipeline {
namespace {

// Append-only: a shipped migration is never edited; add a new one instead.
// Times are INTEGER microseconds since the epoch (UTC). Money is INTEGER
// cents in the ledger; a run's reported cost is REAL cents (agents report
// fractions) and is rounded once, when it is settled.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
      // v1: tasks, comments, dependencies, tags; budget ledger; runs; events.
      R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE tasks (
  id          TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL UNIQUE,          -- creation order: "oldest first"
  title       TEXT NOT NULL,
  type        TEXT NOT NULL DEFAULT 'work' CHECK (type IN ('work', 'epic')),
  parent      TEXT,
  namespace   TEXT,
  status      TEXT NOT NULL DEFAULT 'open'
              CHECK (status IN ('open', 'in-progress', 'needs-help', 'review', 'verified', 'done')),
  patchset    INTEGER NOT NULL DEFAULT 0,
  priority    INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 4),
  complexity  INTEGER CHECK (complexity BETWEEN 1 AND 5),
  description TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  -- Scheduling state owned by the scheduler (not part of the task protocol):
  not_before  INTEGER NOT NULL DEFAULT 0,       -- back-off: not started before this time
  retries     INTEGER NOT NULL DEFAULT 0,       -- failed attempts on the current patchset
  feedback    TEXT                               -- why the last patchset was rejected
);
CREATE INDEX tasks_by_status ON tasks (status, priority, seq);
CREATE INDEX tasks_by_parent ON tasks (parent);
CREATE INDEX tasks_by_namespace ON tasks (namespace, status);

CREATE TABLE task_deps (
  task_id    TEXT NOT NULL,
  depends_on TEXT NOT NULL,
  PRIMARY KEY (task_id, depends_on)
) WITHOUT ROWID;
CREATE INDEX task_deps_reverse ON task_deps (depends_on, task_id);

CREATE TABLE task_tags (
  task_id TEXT NOT NULL,
  tag     TEXT NOT NULL,
  PRIMARY KEY (task_id, tag)
) WITHOUT ROWID;

CREATE TABLE comments (
  id         INTEGER PRIMARY KEY,
  task_id    TEXT NOT NULL,
  text       TEXT NOT NULL,
  author     TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX comments_by_task ON comments (task_id, id);

CREATE TABLE domains (
  domain          TEXT PRIMARY KEY,
  budget_cents    INTEGER NOT NULL DEFAULT 0,
  overrun_blocked INTEGER NOT NULL DEFAULT 0,     -- set by an overrun, cleared by a grant/set
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

-- A hold reserves budget for one run until it is settled or released.
CREATE TABLE holds (
  run_id     TEXT PRIMARY KEY,
  domain     TEXT NOT NULL,
  task_id    TEXT,
  cents      INTEGER NOT NULL CHECK (cents >= 0),
  state      TEXT NOT NULL CHECK (state IN ('held', 'settled', 'released')),
  created_at INTEGER NOT NULL,
  closed_at  INTEGER
);
CREATE INDEX holds_by_domain ON holds (domain, state);

-- Every movement of money, append-only. A spend is unique per run id, which
-- makes settle/spend idempotent.
CREATE TABLE ledger (
  id         INTEGER PRIMARY KEY,
  domain     TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('grant', 'set', 'spend')),
  cents      INTEGER NOT NULL,
  run_id     TEXT,
  task_id    TEXT,
  note       TEXT,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX ledger_one_spend_per_run ON ledger (run_id) WHERE kind = 'spend';
CREATE INDEX ledger_by_domain ON ledger (domain, kind);

-- One row per agent (or verify) run, written by its monitor process.
CREATE TABLE runs (
  run_id         TEXT PRIMARY KEY,
  task_id        TEXT,
  domain         TEXT,
  phase          TEXT NOT NULL DEFAULT 'dev',
  patchset       INTEGER NOT NULL DEFAULT 0,
  profile        TEXT NOT NULL DEFAULT 'command',
  status         TEXT NOT NULL,
  workspace      TEXT,
  prompt_path    TEXT,
  argv_json      TEXT,
  timeout_s      INTEGER,
  max_cost_cents INTEGER,
  max_iter       INTEGER,
  monitor_pid    INTEGER,
  monitor_start  INTEGER,
  agent_pid      INTEGER,                      -- also its process group id
  created_at     INTEGER NOT NULL,
  started_at     INTEGER,
  ended_at       INTEGER,
  exit_code      INTEGER,
  term_signal    INTEGER,
  cost_cents     REAL NOT NULL DEFAULT 0,
  turns          INTEGER NOT NULL DEFAULT 0,
  head_before    TEXT,
  head_after     TEXT,
  error          TEXT,
  stdout_path    TEXT,
  stderr_path    TEXT,
  kill_requested INTEGER NOT NULL DEFAULT 0,
  harvested_at   INTEGER                       -- set once, when the scheduler has acted on the end
);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_task ON runs (task_id, created_at);
CREATE INDEX runs_unharvested ON runs (run_id) WHERE harvested_at IS NULL;

-- What the scheduler did and why, for `status` and for people.
CREATE TABLE events (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  task_id TEXT,
  run_id  TEXT,
  kind    TEXT NOT NULL,
  detail  TEXT
);
CREATE INDEX events_by_task ON events (task_id, id);

INSERT INTO meta (key, value) VALUES ('next_task_seq', '1');
)sql",
      // v2: the scheduler's bookkeeping for runs it starts through an external
      // `agentd` (--agentd-cmd). A row is written before `agentd run` (intent)
      // and moved on after each external call, so a crash neither orphans a run
      // nor records its spend twice. See docs/scheduler.md.
      R"sql(
CREATE TABLE external_runs (
  run_id      TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL,
  domain      TEXT NOT NULL,
  namespace   TEXT,
  state       TEXT NOT NULL
              CHECK (state IN ('intent', 'running', 'ended', 'charging', 'charged', 'finished', 'start-failed')),
  status      TEXT,                 -- agentd's final status
  cost_cents  REAL NOT NULL DEFAULT 0,
  error       TEXT,
  spend_form  TEXT,                 -- which fund spend form recorded it (or 'failed')
  created_at  INTEGER NOT NULL,
  ended_at    INTEGER,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX external_runs_by_state ON external_runs (state, domain);
CREATE INDEX external_runs_by_task ON external_runs (task_id, created_at);
)sql",
      // v3: covering indexes for the ledger's per-domain sums, so a reserve or
      // a check reads the index only, however many holds and spends a domain has.
      R"sql(
CREATE INDEX holds_by_domain_cents ON holds (domain, state, cents);
CREATE INDEX ledger_by_domain_cents ON ledger (domain, kind, cents);
)sql",
      // v4: per-domain running totals, so a reserve or a check reads one row
      // instead of summing every hold and spend of the domain. Triggers keep
      // them, inside the statement that changes a row, so every write path
      // (and a kill -9 anywhere) leaves totals equal to the sums:
      //   held_cents  = SUM(holds.cents)  WHERE state = 'held'
      //   spent_cents = SUM(ledger.cents) WHERE kind = 'spend'
      // A domains row inserted (or renamed) after its holds or spends counts
      // them when it appears. Not covered: INSERT OR REPLACE into holds or
      // ledger (SQLite fires no delete trigger for the replaced row unless
      // recursive_triggers is on); nothing here writes them that way.
      R"sql(
ALTER TABLE domains ADD COLUMN held_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN spent_cents INTEGER NOT NULL DEFAULT 0;

UPDATE domains SET
  held_cents  = (SELECT COALESCE(SUM(h.cents), 0) FROM holds h WHERE h.domain = domains.domain AND h.state = 'held'),
  spent_cents = (SELECT COALESCE(SUM(l.cents), 0) FROM ledger l WHERE l.domain = domains.domain AND l.kind = 'spend');

CREATE TRIGGER domains_totals_on_insert AFTER INSERT ON domains
BEGIN
  UPDATE domains SET
    held_cents  = (SELECT COALESCE(SUM(h.cents), 0) FROM holds h WHERE h.domain = NEW.domain AND h.state = 'held'),
    spent_cents = (SELECT COALESCE(SUM(l.cents), 0) FROM ledger l WHERE l.domain = NEW.domain AND l.kind = 'spend')
  WHERE domain = NEW.domain;
END;

CREATE TRIGGER domains_totals_on_rename AFTER UPDATE OF domain ON domains
BEGIN
  UPDATE domains SET
    held_cents  = (SELECT COALESCE(SUM(h.cents), 0) FROM holds h WHERE h.domain = NEW.domain AND h.state = 'held'),
    spent_cents = (SELECT COALESCE(SUM(l.cents), 0) FROM ledger l WHERE l.domain = NEW.domain AND l.kind = 'spend')
  WHERE domain = NEW.domain;
END;

CREATE TRIGGER holds_totals_on_insert AFTER INSERT ON holds WHEN NEW.state = 'held'
BEGIN
  UPDATE domains SET held_cents = held_cents + NEW.cents WHERE domain = NEW.domain;
END;

CREATE TRIGGER holds_totals_on_update AFTER UPDATE OF domain, cents, state ON holds
  WHEN OLD.state = 'held' OR NEW.state = 'held'
BEGIN
  UPDATE domains SET held_cents = held_cents - OLD.cents WHERE OLD.state = 'held' AND domain = OLD.domain;
  UPDATE domains SET held_cents = held_cents + NEW.cents WHERE NEW.state = 'held' AND domain = NEW.domain;
END;

CREATE TRIGGER holds_totals_on_delete AFTER DELETE ON holds WHEN OLD.state = 'held'
BEGIN
  UPDATE domains SET held_cents = held_cents - OLD.cents WHERE domain = OLD.domain;
END;

CREATE TRIGGER ledger_totals_on_insert AFTER INSERT ON ledger WHEN NEW.kind = 'spend'
BEGIN
  UPDATE domains SET spent_cents = spent_cents + NEW.cents WHERE domain = NEW.domain;
END;

CREATE TRIGGER ledger_totals_on_update AFTER UPDATE OF domain, cents, kind ON ledger
  WHEN OLD.kind = 'spend' OR NEW.kind = 'spend'
BEGIN
  UPDATE domains SET spent_cents = spent_cents - OLD.cents WHERE OLD.kind = 'spend' AND domain = OLD.domain;
  UPDATE domains SET spent_cents = spent_cents + NEW.cents WHERE NEW.kind = 'spend' AND domain = NEW.domain;
END;

CREATE TRIGGER ledger_totals_on_delete AFTER DELETE ON ledger WHEN OLD.kind = 'spend'
BEGIN
  UPDATE domains SET spent_cents = spent_cents - OLD.cents WHERE domain = OLD.domain;
END;
)sql",
      // v5: the v3 covering indexes only served the sums that v4's totals
      // replaced, and every hold and spend paid to keep them (claim + reserve
      // ~10% faster without). The ready query looks up the status of the
      // tasks that block others by id: a covering (id, status) index answers
      // that without visiting the table rows.
      R"sql(
DROP INDEX IF EXISTS holds_by_domain_cents;
DROP INDEX IF EXISTS ledger_by_domain_cents;
CREATE INDEX tasks_id_status ON tasks (id, status);
)sql",
      // v6: a person can pause a domain (from the dashboard): the scheduler
      // starts no new dev run there until it is resumed. A row is a pause;
      // resuming deletes it.
      R"sql(
CREATE TABLE domain_pauses (
  domain    TEXT PRIMARY KEY,
  paused_at INTEGER NOT NULL,
  paused_by TEXT NOT NULL
);
)sql",
      // v7: a run executed as a cluster job is claimed by its job id, not
      // by a monitor process on this host (whose pid would mean nothing).
      R"sql(
ALTER TABLE runs ADD COLUMN cluster_job TEXT;
)sql",
      // v8: a run handed to a cluster is the cluster launcher's from the
      // moment it is submitted, before sbatch answers with the job id (which
      // may take seconds): no local sweep, and no other process looking for
      // dead monitors, takes it for a run that never started.
      R"sql(
ALTER TABLE runs ADD COLUMN executor TEXT;
)sql",
  };
  return kMigrations;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

static Result<int> UserVersion(Db& db) {
  auto s = db.Prepare("PRAGMA user_version");
  if (!s.ok()) return s.error();
  auto row = s->Step();
  if (!row.ok()) return row.error();
  return static_cast<int>(s->Int(0));
}

Status Migrate(Db& db) { return MigrateTo(db, LatestSchemaVersion()); }

Status MigrateTo(Db& db, int target) {
  const auto& migrations = Migrations();
  if (target < 0 || target > LatestSchemaVersion())
    return InvalidArgument("no schema version " + std::to_string(target));
  // The common case (up to date) takes no write lock.
  PL_ASSIGN_OR_RETURN(int version, UserVersion(db));
  while (version < target || version > LatestSchemaVersion()) {
    PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
      PL_ASSIGN_OR_RETURN(version, UserVersion(db));  // another process may have migrated meanwhile
      if (version > LatestSchemaVersion())
        return Refused("the store has schema version " + std::to_string(version) +
                       ", newer than this pipeline (" + std::to_string(LatestSchemaVersion()) +
                       "); upgrade pipeline");
      if (version >= target) return Status::Ok();
      PL_RETURN_IF_ERROR(db.Exec(migrations[static_cast<size_t>(version)]));
      ++version;
      return db.Exec("PRAGMA user_version = " + std::to_string(version));
    }));
  }
  return Status::Ok();
}

}  // namespace pipeline
