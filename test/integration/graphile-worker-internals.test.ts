import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import pg from 'pg';
import { Logger, run, type Runner } from 'graphile-worker';
import { RETRYABLE_ERROR_CODES } from 'graphile-worker/dist/lib.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { JOB_CONNECTION_SETTINGS } from '../../src/worker/run.js';

/**
 * What scimcast relies on inside graphile-worker beyond its documented JavaScript API, checked
 * against the installed version and a migrated database. An upgrade that renames or reshapes any
 * of these fails here, naming what changed, rather than in production:
 * - RETRYABLE_ERROR_CODES (worker/run.ts adds the lost-connection codes to it);
 * - the job_spec type and add_jobs (storage/txns.ts queues an admission's job in its statement);
 * - add_job's named parameters (storage/jobs.ts);
 * - the jobs view and reschedule_jobs (storage/jobs.ts: priority aging, give way);
 * - _private_jobs, _private_job_queues and force_unlock_workers (storage/heartbeats.ts: crash recovery);
 * - jobs locked with the worker *pool* id, which the pool:create event reports (worker/run.ts puts
 *   the ids of pool:create and worker:create in the heartbeat);
 * - the job fetch's plan: the settings of worker/run.ts's job connections make it follow the queue's
 *   index also before the queue table was ever analysed.
 */
const require = createRequire(import.meta.url);
const VERSION = (JSON.parse(readFileSync(require.resolve('graphile-worker/package.json'), 'utf8')) as { version: string }).version;
const changed = (what: string) => `graphile-worker ${VERSION}: ${what}`;

let db: { url: string; drop: () => Promise<void> };
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  // As the worker's own pools do (storage/db.ts): graphile-worker warns about a pool without one.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
});
afterAll(async () => {
  await pool?.end().catch(() => {});
  await db?.drop();
});

/** Column name → type of a table, view or composite type. */
async function columns(relation: string): Promise<Record<string, string>> {
  const r = await pool.query<{ name: string; type: string }>(
    `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = to_regclass($1) and attnum > 0 and not attisdropped`,
    [relation],
  );
  return Object.fromEntries(r.rows.map((x) => [x.name, x.type]));
}

/** The argument names of every overload of a function. */
async function argumentNames(fn: string): Promise<string[][]> {
  const r = await pool.query<{ names: string[] | null }>(
    `select proargnames as names from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'graphile_worker' and p.proname = $1`,
    [fn],
  );
  return r.rows.map((x) => x.names ?? []);
}

function expectColumns(relation: string, actual: Record<string, string>, expected: Record<string, string>) {
  for (const [name, type] of Object.entries(expected)) {
    expect(actual[name], changed(`${relation}.${name} is ${actual[name] ?? 'gone'}, scimcast expects ${type}`)).toBe(type);
  }
}

/** Run a statement and roll it back: it must be accepted as scimcast writes it. */
async function accepted(text: string, values: unknown[] = []): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query(text, values);
  } finally {
    await c.query('rollback').catch(() => {});
    c.release();
  }
}

describe(`graphile-worker internals scimcast relies on (installed ${VERSION})`, () => {
  it('RETRYABLE_ERROR_CODES is a mutable table of { minDelay, maxDelay } by error code', () => {
    expect(typeof RETRYABLE_ERROR_CODES, changed('RETRYABLE_ERROR_CODES is no longer exported from dist/lib.js')).toBe('object');
    expect(Object.isFrozen(RETRYABLE_ERROR_CODES), changed('RETRYABLE_ERROR_CODES is frozen: worker/run.ts cannot add the lost-connection codes')).toBe(false);
    const entries = Object.values(RETRYABLE_ERROR_CODES);
    expect(entries.length, changed('RETRYABLE_ERROR_CODES is empty')).toBeGreaterThan(0);
    for (const e of entries) expect(e, changed('a RETRYABLE_ERROR_CODES entry is not { minDelay, maxDelay }')).toMatchObject({ minDelay: expect.any(Number), maxDelay: expect.any(Number) });
  });

  it('graphile_worker.job_spec has the fields storage/txns.ts fills, and add_jobs takes an array of them', async () => {
    expectColumns('graphile_worker.job_spec', await columns('graphile_worker.job_spec'), {
      identifier: 'text',
      payload: 'json',
      queue_name: 'text',
      run_at: 'timestamp with time zone',
      max_attempts: 'smallint',
      job_key: 'text',
      priority: 'smallint',
    });
    const specs = [{ identifier: 'apply_async_request', payload: { txnId: 't' }, queue_name: null, run_at: null, max_attempts: 25, job_key: null, priority: 0 }];
    await expect(
      accepted('select count(*) from graphile_worker.add_jobs(array(select s from json_populate_recordset(null::graphile_worker.job_spec, $1::json) s))', [JSON.stringify(specs)]),
      changed('add_jobs(job_spec[]) no longer accepts the statement storage/txns.ts sends'),
    ).resolves.toBeUndefined();
  });

  it('add_job takes the named parameters storage/jobs.ts passes', async () => {
    const overloads = await argumentNames('add_job');
    const wanted = ['identifier', 'payload', 'queue_name', 'run_at', 'max_attempts', 'job_key', 'priority', 'job_key_mode'];
    expect(overloads.some((names) => wanted.every((w) => names.includes(w))), changed(`add_job's parameters are ${JSON.stringify(overloads)}`)).toBe(true);
  });

  it('the graphile_worker.jobs view has the columns priority aging and give-way read, and reschedule_jobs takes a priority', async () => {
    expectColumns('graphile_worker.jobs', await columns('graphile_worker.jobs'), {
      id: 'bigint',
      task_identifier: 'text',
      priority: 'smallint',
      run_at: 'timestamp with time zone',
      updated_at: 'timestamp with time zone',
      attempts: 'smallint',
      max_attempts: 'smallint',
      locked_at: 'timestamp with time zone',
    });
    const overloads = await argumentNames('reschedule_jobs');
    expect(overloads.some((names) => names.includes('job_ids') && names.includes('priority')), changed(`reschedule_jobs's parameters are ${JSON.stringify(overloads)}`)).toBe(true);
    await expect(
      accepted('select count(*) from graphile_worker.reschedule_jobs(array(select id from graphile_worker.jobs where false), priority => 1::int)'),
      changed('reschedule_jobs(…, priority => int) is no longer accepted'),
    ).resolves.toBeUndefined();
  });

  it('crash recovery reads the locks in _private_jobs and _private_job_queues and releases them with force_unlock_workers', async () => {
    for (const relation of ['graphile_worker._private_jobs', 'graphile_worker._private_job_queues']) {
      expectColumns(relation, await columns(relation), { locked_by: 'text', locked_at: 'timestamp with time zone' });
    }
    const r = await pool.query<{ fn: string | null }>(`select to_regprocedure('graphile_worker.force_unlock_workers(text[])')::text as fn`);
    expect(r.rows[0]?.fn, changed('force_unlock_workers(text[]) is gone')).not.toBeNull();
  });

  it('a running job is locked with the id of its worker pool, which pool:create reports', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const ids: { pool: string[]; worker: string[] } = { pool: [], worker: [] };
    const events = new EventEmitter() as NonNullable<Parameters<typeof run>[0]['events']>;
    events.on('pool:create', ({ workerPool }) => ids.pool.push(workerPool.id));
    events.on('worker:create', ({ worker }) => ids.worker.push(worker.workerId));
    const runner: Runner = await run({
      pgPool: pool,
      events,
      concurrency: 1,
      noHandleSignals: true,
      pollInterval: 100,
      logger: new Logger(() => () => {}),
      taskList: {
        hold: async () => {
          started();
          await held;
        },
      },
    });
    try {
      await pool.query(`select graphile_worker.add_job('hold', '{}'::json)`);
      await running;
      const r = await pool.query<{ locked_by: string }>(`select locked_by from graphile_worker._private_jobs where locked_by is not null`);
      expect(ids.pool.length, changed('no pool:create event with workerPool.id')).toBeGreaterThan(0);
      expect(ids.worker.length, changed('no worker:create event with worker.workerId')).toBeGreaterThan(0);
      const lockedBy = r.rows.map((x) => x.locked_by);
      expect(lockedBy.length).toBe(1);
      expect([...ids.pool, ...ids.worker], changed(`a job is locked by ${lockedBy[0]}, neither a pool id nor a worker id the heartbeat records`)).toContain(lockedBy[0]);
    } finally {
      release();
      await runner.stop();
    }
  });

  it('a burst queued in a fresh database, before the queue table was ever analysed: on the job connections the fetch reads the first row through the queue index; without their settings it scans and sorts the whole queue', async () => {
    // No autovacuum analyse of this test's own database in between: the state a fresh install is
    // in until autovacuum first gets to the table.
    await pool.query(`alter table graphile_worker._private_jobs set (autovacuum_enabled = false)`);
    // The fetch statement exactly as the installed graphile-worker sends it, caught on its way.
    const fetches: { text: string; values: unknown[] }[] = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
      const q = a[0] as { text?: string; values?: unknown[] } | string;
      if (typeof q === 'object' && q.text && /_private_jobs/.test(q.text) && /skip locked/.test(q.text)) fetches.push({ text: q.text, values: q.values ?? [] });
      return (query as (...x: unknown[]) => unknown).apply(this, a);
    } as typeof query;
    await pool.query(`select count(*) from graphile_worker.add_jobs(array(select ('burst', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec from generate_series(1, 5000)))`);
    let ran!: () => void;
    const one = new Promise<void>((r) => (ran = r));
    const runner: Runner = await run({ pgPool: pool, concurrency: 1, noHandleSignals: true, pollInterval: 100, logger: new Logger(() => () => {}), taskList: { burst: async () => ran() } });
    try {
      await one;
    } finally {
      pg.Client.prototype.query = query;
      await runner.stop();
    }
    expect(fetches.length, changed('no job fetch (an update of _private_jobs … skip locked) seen')).toBeGreaterThan(0);
    const plan = async (settings: Readonly<Record<string, string>>) => {
      const client = await pool.connect();
      try {
        for (const [k, v] of Object.entries(settings)) await client.query(`set ${k} = ${v}`);
        const r = await client.query<{ 'QUERY PLAN': string }>({ text: `explain ${fetches[0]!.text}`, values: fetches[0]!.values });
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      } finally {
        await client.query('reset all');
        client.release();
      }
    };
    const tuned = await plan(JOB_CONNECTION_SETTINGS);
    expect(tuned).toMatch(/Index Scan using jobs_(main|no_queue)_index/);
    expect(tuned).not.toMatch(/Sort/);
    // Why the settings exist: on a plain connection the same table gives the scan and the sort,
    // which reads every queued job for each one fetched.
    const plain = await plan({});
    expect(plain).toMatch(/Seq Scan on _private_jobs/);
    expect(plain).toMatch(/Sort Key: jobs_1\.priority, jobs_1\.run_at/);
    await pool.query(`delete from graphile_worker._private_jobs`);
    await pool.query(`alter table graphile_worker._private_jobs reset (autovacuum_enabled)`);
  });
});
